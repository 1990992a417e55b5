/**
 * A real web client against Hearth: Converse.js (npm) in headless Chromium logs in over WebSocket (RFC 7395)
 * and over BOSH (XEP-0206), sends a message to a client on plain TCP and receives one back. Screenshots go to
 * test-artifacts/.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { xml } from "../../src/xml/element.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { httpPort } from "../helpers/web-client.ts";
import { artifact, browserMissing, launchBrowser, type TestBrowser } from "./browser.ts";
import { type ConversePage, serveConverse } from "./converse-page.ts";

const skip = browserMissing();

describe("Converse.js in headless Chromium", { skip: skip ?? false }, () => {
  let ts: TestServer;
  let bob: TestClient;
  let site: ConversePage;
  let browser: TestBrowser;
  let hearth: string;

  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-secret"],
        ["carol@localhost", "carol-secret"],
        ["bob@localhost", "bob-secret"],
      ],
      config: { http: { port: 0, tls_port: -1 } },
    });
    hearth = `127.0.0.1:${httpPort(ts)}`;
    bob = await connectClient(ts, "bob@localhost", "bob-secret", { resource: "tcp", presence: true });
    site = await serveConverse({});
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await bob?.close();
    await ts?.stop();
  });

  /** Common settings: log in at once as `jid`, no discovery (the page is not on the XMPP domain), quiet. */
  function settings(jid: string, password: string, transport: Record<string, string>) {
    return {
      ...transport,
      authentication: "login",
      auto_login: true,
      jid,
      password,
      discover_connection_methods: false,
      auto_reconnect: false,
      view_mode: "fullscreen",
      assets_path: "/converse/",
      allow_non_roster_messaging: true,
      play_sounds: false,
      show_desktop_notifications: false,
      i18n: "en",
      // OMEMO needs its WebAssembly crypto, which has nothing to do with the server: leave it out.
      blacklisted_plugins: ["converse-omemo"],
      loglevel: "warn",
    };
  }

  /** Logs in, chats with Bob both ways, and keeps a screenshot. */
  async function chatWithBob(page: Page, user: string, name: string): Promise<void> {
    const errors: string[] = [];
    const log: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (m) => log.push(`${m.type()}: ${m.text()}`));
    await page.goto(site.url);
    try {
      await page.waitForFunction(
        () => (window as unknown as { hearth: { connected: boolean } }).hearth.connected,
        null,
        {
          timeout: 20_000,
        },
      );
    } catch (err) {
      await page.screenshot({ path: artifact(`converse-${name}-failed.png`) });
      throw new Error(`Converse did not connect: ${(err as Error).message}\n${[...errors, ...log].join("\n")}`);
    }
    // The server sees a bound session for the user on the web transport.
    const sessions = [...ts.server.core.sessions.all()].filter((s) => s.username === user.split("@")[0]);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.transport, name);

    // Alice opens a chat with Bob and types a message, as a person would.
    await page.evaluate(async () => {
      const w = window as unknown as {
        hearth: { api: { chats: { open(jid: string, a: object, f: boolean): Promise<unknown> } } };
      };
      await w.hearth.api.chats.open("bob@localhost", {}, true);
    });
    const textarea = page.locator("textarea.chat-textarea");
    await textarea.waitFor({ timeout: 10_000 });
    const text = `Hello Bob, this is ${user} over ${name}`;
    await textarea.fill(text);
    await textarea.press("Enter");
    const got = await bob.expect((el) => el.name === "message" && el.getChildText("body") === text, 10_000);
    assert.match(got.attrs.from ?? "", new RegExp(`^${user}/`));

    // Bob answers from his TCP client; Converse shows it.
    const reply = `Hi ${user.split("@")[0]}, Bob here on plain TCP (${name})`;
    bob.send(xml("message", { to: got.attrs.from, type: "chat", id: `r-${name}` }, xml("body", null, reply)));
    await page.getByText(reply).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: artifact(`converse-${name}.png`) });
    assert.deepEqual(errors, []);
  }

  it("logs in over WebSocket and chats with a TCP client", async () => {
    site.setSettings(settings("alice@localhost", "alice-secret", { websocket_url: `ws://${hearth}/xmpp-websocket` }));
    const page = await browser.context.newPage();
    try {
      await chatWithBob(page, "alice@localhost", "websocket");
    } finally {
      await page.close();
    }
  });

  it("shares a picture through HTTP File Upload (XEP-0363)", async () => {
    site.setSettings(settings("alice@localhost", "alice-secret", { websocket_url: `ws://${hearth}/xmpp-websocket` }));
    const page = await browser.context.newPage();
    try {
      await page.goto(site.url);
      await page.waitForFunction(
        () => (window as unknown as { hearth: { connected: boolean } }).hearth.connected,
        null,
        {
          timeout: 20_000,
        },
      );
      await page.evaluate(async () => {
        const w = window as unknown as {
          hearth: { api: { chats: { open(jid: string, a: object, f: boolean): Promise<unknown> } } };
        };
        await w.hearth.api.chats.open("bob@localhost", {}, true);
      });
      await page.locator("textarea.chat-textarea").waitFor({ timeout: 10_000 });
      // A real PNG: a piece of the page itself.
      const png = await page.screenshot({ clip: { x: 0, y: 0, width: 220, height: 90 } });
      await page
        .locator("input[type=file]")
        .first()
        .setInputFiles({ name: "hearth.png", mimeType: "image/png", buffer: png });
      // Converse asks upload.localhost for a slot, PUTs the file across origins, then sends the GET URL.
      const msg = await bob.expect(
        (el) => el.name === "message" && /\/upload\/.+\/hearth\.png$/.test(el.getChildText("body") ?? ""),
        15_000,
      );
      const url = msg.getChildText("body") as string;
      const res = await fetch(url.replace("//localhost:", "//127.0.0.1:"));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/png");
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
      // Converse shows the picture inline, loaded from Hearth.
      await page.locator(`img[src="${url}"]`).first().waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        (src) => [...document.querySelectorAll("img")].some((i) => i.src === src && i.complete && i.naturalWidth > 0),
        url,
        { timeout: 10_000 },
      );
      await page.screenshot({ path: artifact("converse-upload.png") });
    } finally {
      await page.close();
    }
  });

  it("logs in over BOSH and chats with a TCP client", async () => {
    site.setSettings(settings("carol@localhost", "carol-secret", { bosh_service_url: `http://${hearth}/http-bind` }));
    const page = await browser.context.newPage();
    try {
      await chatWithBob(page, "carol@localhost", "bosh");
    } finally {
      await page.close();
    }
  });
});
