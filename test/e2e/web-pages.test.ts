/**
 * The invite landing page and the admin page, rendered and used in headless Chromium: the stylesheet must pass
 * the pages' Content-Security-Policy (no console errors), forms must work in a real browser (Origin and
 * Sec-Fetch-Site as a browser sends them), and screenshots are kept in test-artifacts/.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { createInvite } from "../../src/invites/create.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { httpPort } from "../helpers/web-client.ts";
import { artifact, browserMissing, launchBrowser, type TestBrowser } from "./browser.ts";

const skip = browserMissing();

/** Console errors (CSP violations show up there) and uncaught page errors. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}

describe("web pages in headless Chromium", { skip: skip ?? false }, () => {
  let ts: TestServer;
  let browser: TestBrowser;
  let base: string;
  let alice: TestClient;

  before(async () => {
    ts = await startTestServer({
      users: [
        ["admin@localhost", "admin-secret"],
        ["alice@localhost", "alice-secret"],
      ],
      config: { admins: ["admin@localhost"], http: { port: 0, tls_port: -1 }, web: { invite_registration: true } },
    });
    // "localhost" is what people type; Chromium maps it to the loopback address Hearth listens on.
    base = `http://localhost:${httpPort(ts)}`;
    alice = await connectClient(ts, "alice@localhost", "alice-secret", { resource: "phone", presence: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await alice?.close();
    await ts?.stop();
  });

  it("renders the invite page and creates an account from it", async () => {
    const invite = await createInvite(ts.server.core.storage, ts.config, {
      host: "localhost",
      creator: "alice@localhost",
      roster: ["alice@localhost"],
    });
    const page = await browser.context.newPage();
    const problems = watch(page);
    try {
      await page.goto(`${base}/invite/${invite.token}`);
      await page.getByRole("heading", { name: "You're invited to localhost" }).waitFor();
      // The stylesheet applied (it is allowed by hash): the primary button has the accent background.
      const button = page.getByRole("link", { name: "Open in my app" });
      assert.equal(await button.getAttribute("href"), `xmpp:alice@localhost?roster;preauth=${invite.token};ibr=y`);
      assert.equal(await button.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(217, 72, 15)");
      const qr = await page.locator(".qr svg").boundingBox();
      assert.ok(qr && qr.width >= 150 && qr.height >= 150, "the QR code is drawn");
      for (const app of ["Conversations", "Monal", "Gajim", "Dino"])
        await page.getByRole("link", { name: app }).waitFor();
      await page.screenshot({ path: artifact("invite-page.png"), fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      await page.screenshot({ path: artifact("invite-page-dark.png"), fullPage: true });
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: artifact("invite-page-phone.png"), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      await page.getByLabel("Username").fill("newcomer");
      await page.getByLabel("Password", { exact: false }).first().fill("a good long password");
      await page.getByLabel("Repeat the password").fill("a good long password");
      await page.getByRole("button", { name: "Create my account" }).click();
      await page.getByRole("heading", { name: "Welcome, newcomer@localhost!" }).waitFor();
      await page.getByText("You and alice@localhost are now contacts.").waitFor();
      await page.screenshot({ path: artifact("invite-page-welcome.png"), fullPage: true });
      assert.ok(await ts.server.core.storage.accounts.exists("localhost", "newcomer"));
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it("signs an admin in, shows the dashboard and creates an invitation", async () => {
    const page = await browser.context.newPage();
    const problems = watch(page);
    try {
      await page.goto(`${base}/admin`);
      await page.getByRole("heading", { name: "Server admin" }).waitFor();
      await page.screenshot({ path: artifact("admin-login.png"), fullPage: true });
      await page.getByLabel("Address").fill("admin@localhost");
      await page.getByLabel("Password").fill("admin-secret");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "All systems running" }).waitFor();
      await page.getByText("alice@localhost/phone").waitFor();
      await page.getByText("upload.localhost").first().waitFor();

      await page.getByLabel("Uses").fill("5");
      await page.getByRole("button", { name: "Create invitation" }).click();
      const notice = page.locator(".notice.ok");
      await notice.waitFor();
      const link = await notice.locator("a").getAttribute("href");
      const token = /^\/invite\/([a-z2-7]+)$/.exec(link ?? "")?.[1];
      assert.ok(token, `link ${link}`);
      assert.equal((await ts.server.core.storage.invites.get(token))?.maxUses, 5);
      await page.screenshot({ path: artifact("admin-page.png"), fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      await page.screenshot({ path: artifact("admin-page-dark.png"), fullPage: true });
      await page.emulateMedia({ colorScheme: "light" });

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Server admin" }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
