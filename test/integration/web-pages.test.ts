import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createInvite } from "../../src/invites/create.ts";
import type { Invite } from "../../src/storage/invites.ts";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { httpPort } from "../helpers/web-client.ts";

/** The value of a hidden form field in a page. */
function field(page: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  assert.ok(m, `no field ${name} in the page`);
  return m[1] as string;
}

function form(values: Record<string, string>): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(values).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  };
}

describe("invite landing page", () => {
  let ts: TestServer;
  let base: string;
  const invite = (req: Partial<Parameters<typeof createInvite>[2]> = {}): Promise<Invite> =>
    createInvite(ts.server.core.storage, ts.config, { host: "localhost", creator: "alice@localhost", ...req });

  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-pw"],
        ["taken@localhost", "pw"],
      ],
      config: { http: { port: 0, tls_port: -1 }, web: { invite_registration: true } },
    });
    base = `http://127.0.0.1:${httpPort(ts)}`;
  });
  after(async () => {
    await ts?.stop();
  });

  it("shows how to join: apps per platform, the xmpp: link, a QR code and the form", async () => {
    const inv = await invite({ roster: ["alice@localhost"] });
    const res = await fetch(`${base}/invite/${inv.token}`, {
      headers: { "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'sha256-/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline/);
    const page = await res.text();
    assert.match(page, /You&#39;re invited to localhost/);
    assert.match(page, /alice@localhost invited you/);
    for (const app of ["Conversations", "Cheogram", "Monal", "Siskin IM", "Gajim", "Dino", "Converse.js"]) {
      assert.ok(page.includes(`>${app}</a>`), app);
    }
    // The visitor's platform (Android, from the User-Agent) comes first and is marked.
    assert.match(page, /<div class="platform mine">\s*<h3>Android<span class="tag">your device/);
    const uri = `xmpp:alice@localhost?roster;preauth=${inv.token};ibr=y`;
    assert.ok(page.includes(`href="${uri}"`), "the xmpp: link");
    assert.match(page, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
    assert.match(page, /<form class="stack" method="post"/);
    assert.doesNotMatch(page, /<script/i);

    const head = await fetch(`${base}/invite/${inv.token}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it("says when an invitation is unknown, expired or used up", async () => {
    assert.equal((await fetch(`${base}/invite/${"a".repeat(26)}`)).status, 404);
    assert.equal((await fetch(`${base}/invite/not-a-token`)).status, 404);
    assert.equal((await fetch(`${base}/invite/`)).status, 404);
    const expired = await invite({ expiresIn: 1 });
    await ts.server.core.storage.invites.use(expired.token, "x@localhost");
    const res = await fetch(`${base}/invite/${expired.token}`);
    assert.equal(res.status, 410);
    assert.match(await res.text(), /has been used/);
    const old = await createInvite(
      ts.server.core.storage,
      ts.config,
      {
        host: "localhost",
        creator: null,
      },
      Date.now() - 8 * 86_400_000,
    );
    const gone = await fetch(`${base}/invite/${old.token}`);
    assert.equal(gone.status, 410);
    assert.match(await gone.text(), /has expired/);
  });

  it("creates the account in the browser, consuming the invitation like XEP-0401", async () => {
    const inv = await invite({ roster: ["alice@localhost"] });
    const url = `${base}/invite/${inv.token}`;
    const page = await (await fetch(url)).text();
    const csrf = field(page, "csrf");
    const res = await fetch(url, {
      method: "POST",
      ...form({ csrf, username: "Newbie", password: "correct horse", password2: "correct horse" }),
    });
    assert.equal(res.status, 201);
    assert.match(await res.text(), /Welcome, newbie@localhost!/);
    // The invitation is used, so the page now says so and a second post is refused.
    assert.equal((await ts.server.core.storage.invites.get(inv.token))?.uses, 1);
    assert.equal((await fetch(url)).status, 410);
    const again = await fetch(url, {
      method: "POST",
      ...form({ csrf, username: "other", password: "correct horse", password2: "correct horse" }),
    });
    assert.equal(again.status, 410);
    // The account works, and the invitation's contact is a mutual contact (XEP-0401 §5.6).
    const newbie = await connectClient(ts, "newbie@localhost", "correct horse");
    try {
      const roster = await newbie.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
      const item = roster.getChild("query")?.getChildren("item")[0];
      assert.equal(item?.attrs.jid, "alice@localhost");
      assert.equal(item?.attrs.subscription, "both");
    } finally {
      await newbie.close();
    }
  });

  it("refuses forged, cross-site and invalid posts without using the invitation", async () => {
    const inv = await invite();
    const url = `${base}/invite/${inv.token}`;
    const csrf = field(await (await fetch(url)).text(), "csrf");
    const good = { csrf, username: "someone", password: "long enough", password2: "long enough" };
    const post = (values: Record<string, string>, headers: Record<string, string> = {}) => {
      const f = form(values);
      return fetch(url, { method: "POST", body: f.body, headers: { ...f.headers, ...headers } });
    };
    assert.equal((await post({ ...good, csrf: "" })).status, 403);
    assert.equal((await post({ ...good, csrf: `1${csrf}` })).status, 403);
    // A token from another invitation's form does not fit this one.
    const other = await invite();
    const otherCsrf = field(await (await fetch(`${base}/invite/${other.token}`)).text(), "csrf");
    assert.equal((await post({ ...good, csrf: otherCsrf })).status, 403);
    assert.equal((await post(good, { Origin: "https://evil.example" })).status, 403);
    assert.equal((await post(good, { "Sec-Fetch-Site": "cross-site" })).status, 403);
    const mismatch = await post({ ...good, password2: "something else" });
    assert.equal(mismatch.status, 400);
    assert.match(await mismatch.text(), /not the same/);
    assert.equal((await post({ ...good, password: "short", password2: "short" })).status, 400);
    const taken = await post({ ...good, username: "taken" });
    assert.equal(taken.status, 409);
    assert.match(await taken.text(), /already exists/);
    const json = await fetch(url, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } });
    assert.equal(json.status, 415);
    assert.equal((await ts.server.core.storage.invites.get(inv.token))?.uses, 0);
  });

  it("keeps a reserved username whatever the form says", async () => {
    const inv = await invite({ username: "reserved" });
    const url = `${base}/invite/${inv.token}`;
    const page = await (await fetch(url)).text();
    assert.match(page, /value="reserved" readonly/);
    const res = await fetch(url, {
      method: "POST",
      ...form({ csrf: field(page, "csrf"), username: "sneaky", password: "long enough", password2: "long enough" }),
    });
    assert.equal(res.status, 201);
    assert.ok(await ts.server.core.storage.accounts.exists("localhost", "reserved"));
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "sneaky"), false);
  });

  it("shows no form for contact-only invitations", async () => {
    const inv = await invite({ roster: ["alice@localhost"], allowRegistration: false });
    const page = await (await fetch(`${base}/invite/${inv.token}`)).text();
    assert.match(page, /alice@localhost wants to chat with you/);
    assert.ok(page.includes(`xmpp:alice@localhost?roster;preauth=${inv.token}"`));
    assert.doesNotMatch(page, /<form/);
  });

  it("limits account creation attempts per address", async () => {
    const inv = await invite();
    const url = `${base}/invite/${inv.token}`;
    const csrf = field(await (await fetch(url)).text(), "csrf");
    const post = (values: Record<string, string>) => fetch(url, { method: "POST", ...form(values) });
    // Earlier tests already spent some of the 10 attempts per 15 minutes; spend the rest with bad forms.
    let status = 0;
    for (let i = 0; i < 11 && status !== 429; i++) {
      status = (await post({ csrf: "bad", username: "late", password: "long enough", password2: "long enough" }))
        .status;
    }
    assert.equal(status, 429);
    // Now even a good form is refused from this address.
    const res = await post({ csrf, username: "late", password: "long enough", password2: "long enough" });
    assert.equal(res.status, 429);
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "late"), false);
  });
});

describe("invite landing page without web registration", () => {
  it("shows the page without a form and refuses posts", async () => {
    const ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: { http: { port: 0, tls_port: -1 } },
    });
    try {
      const inv = await createInvite(ts.server.core.storage, ts.config, { host: "localhost", creator: null });
      const url = `http://127.0.0.1:${httpPort(ts)}/invite/${inv.token}`;
      const page = await (await fetch(url)).text();
      assert.match(page, /the administrator of localhost invited you/);
      assert.doesNotMatch(page, /<form/);
      const res = await fetch(url, {
        method: "POST",
        ...form({ username: "x", password: "long enough", password2: "long enough" }),
      });
      assert.equal(res.status, 403);
    } finally {
      await ts.stop();
    }
  });
});

describe("admin page", () => {
  let ts: TestServer;
  let base: string;

  before(async () => {
    ts = await startTestServer({
      users: [
        ["admin@localhost", "admin-pw"],
        ["alice@localhost", "alice-pw"],
      ],
      config: { admins: ["admin@localhost"], http: { port: 0, tls_port: -1 } },
    });
    base = `http://127.0.0.1:${httpPort(ts)}`;
  });
  after(async () => {
    await ts?.stop();
  });

  const login = (jid: string, password: string, headers: Record<string, string> = {}) => {
    const f = form({ action: "login", jid, password });
    return fetch(`${base}/admin`, {
      method: "POST",
      body: f.body,
      headers: { ...f.headers, ...headers },
      redirect: "manual",
    });
  };

  /** Signs in and returns the session cookie. */
  async function signIn(): Promise<string> {
    const res = await login("admin@localhost", "admin-pw");
    assert.equal(res.status, 303);
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^hearth_admin=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    return setCookie.split(";")[0] as string;
  }

  it("asks for a sign-in and refuses wrong passwords and non-admins", async () => {
    const res = await fetch(`${base}/admin`);
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.match(page, /Sign in with an administrator account/);
    assert.doesNotMatch(page, /Online now/);
    assert.equal((await login("admin@localhost", "wrong")).status, 401);
    // Alice's password is right, but she is not in `admins`.
    const alice = await login("alice@localhost", "alice-pw");
    assert.equal(alice.status, 401);
    assert.equal(alice.headers.get("set-cookie"), null);
    assert.equal((await login("nobody@localhost", "x")).status, 401);
    // A made-up cookie is no session.
    const forged = await fetch(`${base}/admin`, { headers: { Cookie: `hearth_admin=${"A".repeat(43)}` } });
    assert.match(await forged.text(), /Sign in with an administrator account/);
  });

  it("shows health, online users, accounts, listeners and invitations once signed in", async () => {
    const alice = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "phone" });
    try {
      const cookie = await signIn();
      const res = await fetch(`${base}/admin`, { headers: { Cookie: cookie } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
      const page = await res.text();
      assert.match(page, /All systems running/);
      assert.match(page, /alice@localhost\/phone/);
      assert.match(page, /<div class="value">2<\/div><div class="label">accounts</);
      assert.match(page, /<div class="value">1<\/div><div class="label">session online</);
      assert.match(page, /upload\.localhost/);
      assert.match(page, new RegExp(`127\\.0\\.0\\.1:${ts.c2sPort}`));
      assert.match(page, /Create invitation/);
      assert.match(page, /admin@localhost/);
    } finally {
      await alice.close();
    }
  });

  it("creates and revokes invitations with the session's form token only", async () => {
    const cookie = await signIn();
    const page = await (await fetch(`${base}/admin`, { headers: { Cookie: cookie } })).text();
    const csrf = field(page, "csrf");
    const post = (values: Record<string, string>, extra: Record<string, string> = {}) => {
      const f = form(values);
      return fetch(`${base}/admin`, {
        method: "POST",
        body: f.body,
        headers: { ...f.headers, Cookie: cookie, ...extra },
        redirect: "manual",
      });
    };
    const before = (await ts.server.core.storage.invites.list()).length;
    assert.equal((await post({ action: "create-invite", host: "localhost", uses: "3", days: "7" })).status, 403);
    const crossSite = await post(
      { csrf, action: "create-invite", host: "localhost", uses: "3", days: "7" },
      { Origin: "https://evil.example" },
    );
    assert.equal(crossSite.status, 403);
    assert.equal((await ts.server.core.storage.invites.list()).length, before);

    const created = await post({
      csrf,
      action: "create-invite",
      host: "localhost",
      username: "",
      uses: "3",
      days: "7",
    });
    assert.equal(created.status, 303);
    const token = /created=([a-z2-7]+)/.exec(created.headers.get("location") ?? "")?.[1];
    assert.ok(token);
    const invite = await ts.server.core.storage.invites.get(token);
    assert.equal(invite?.maxUses, 3);
    assert.equal(invite?.creator, "admin@localhost");
    assert.ok(Math.abs((invite?.expiresAt ?? 0) - Date.now() - 7 * 86_400_000) < 60_000);
    const shown = await (await fetch(`${base}/admin?created=${token}`, { headers: { Cookie: cookie } })).text();
    assert.ok(shown.includes(`/invite/${token}`));

    const bad = await post({ csrf, action: "create-invite", host: "localhost", uses: "0", days: "7" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /number of uses/);

    const revoked = await post({ csrf, action: "revoke-invite", token });
    assert.equal(revoked.status, 303);
    assert.equal(await ts.server.core.storage.invites.get(token), null);
  });

  it("signs out, after which the cookie is worthless", async () => {
    const cookie = await signIn();
    const csrf = field(await (await fetch(`${base}/admin`, { headers: { Cookie: cookie } })).text(), "csrf");
    const f = form({ csrf, action: "logout" });
    const res = await fetch(`${base}/admin`, {
      method: "POST",
      body: f.body,
      headers: { ...f.headers, Cookie: cookie },
      redirect: "manual",
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie") ?? "", /^hearth_admin=; .*Max-Age=0/);
    const after = await (await fetch(`${base}/admin`, { headers: { Cookie: cookie } })).text();
    assert.match(after, /Sign in with an administrator account/);
  });

  it("is refused over plain HTTP from a remote client (through a proxy)", async () => {
    const proxied = { "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http" };
    const res = await fetch(`${base}/admin`, { headers: proxied });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /not encrypted/);
    assert.equal((await login("admin@localhost", "admin-pw", proxied)).status, 403);
    // Through the proxy over HTTPS it is fine.
    const https = await fetch(`${base}/admin`, { headers: { ...proxied, "X-Forwarded-Proto": "https" } });
    assert.equal(https.status, 200);
  });

  it("locks out an address after repeated failures", async () => {
    const remote = { "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https" };
    for (let i = 0; i < 5; i++) assert.equal((await login("admin@localhost", "guess", remote)).status, 401);
    // Even the right password is refused for a while from that address, but not from others.
    assert.equal((await login("admin@localhost", "admin-pw", remote)).status, 429);
    assert.equal((await login("admin@localhost", "admin-pw")).status, 303);
  });
});

describe("web pages switched off", () => {
  it("mounts neither page", async () => {
    const ts = await startTestServer({
      config: { http: { port: 0, tls_port: -1 }, web: { admin_page: false, invite_page: false } },
    });
    try {
      const base = `http://127.0.0.1:${httpPort(ts)}`;
      assert.equal((await fetch(`${base}/admin`)).status, 404);
      assert.equal((await fetch(`${base}/invite/${"a".repeat(26)}`)).status, 404);
    } finally {
      await ts.stop();
    }
  });
});
