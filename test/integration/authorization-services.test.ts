/**
 * Authorization of the server's services: ad-hoc admin commands, stream management, components, file upload,
 * invitations and the HTTP endpoints. One test per rule, each "Mallory cannot …".
 *
 * Decisions documented here:
 * - `admins` are server administrators (like Prosody's global admins): an admin administers every host of the
 *   server; an account with the same username on another host is nobody special.
 * - A BOSH session id is a 128-bit bearer secret that only ever travels over the channel the session was opened on;
 *   it is not tied to the client's IP address (phones change networks), but a session opened over a confidential
 *   channel refuses requests over a plain one (docs/web.md).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { connectComponent } from "../helpers/component.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BoshClient, boshLogin, httpCall, httpPort } from "../helpers/web-client.ts";
import { command, preAuth, preauthIq, registration, submit } from "./accounts-fixtures.ts";
import { errorCondition, withBody } from "./im-fixtures.ts";
import { authenticated } from "./mobile-fixtures.ts";

const ADMIN = "http://jabber.org/protocol/admin";
const SM = "urn:xmpp:sm:3";
const UPLOAD = "urn:xmpp:http:upload:0";
const COMPONENT = "comp.localhost";
const SECRET = "component-secret";

function refused(reply: XmlElement, condition: string | string[]): XmlElement {
  assert.equal(reply.attrs.type, "error", `expected an error, got ${reply}`);
  const wanted = Array.isArray(condition) ? condition : [condition];
  assert.ok(wanted.includes(errorCondition(reply) ?? ""), `expected ${wanted.join("|")}, got ${reply}`);
  return reply;
}

describe("authorization: services", () => {
  let ts: TestServer;
  let base: string;
  const open: TestClient[] = [];
  const login = async (jid: string, opts: Parameters<typeof connectClient>[3] = {}) => {
    const c = await connectClient(ts, jid, "pw", opts);
    open.push(c);
    return c;
  };
  let root: TestClient;
  let alice: TestClient;
  let mallory: TestClient;

  before(async () => {
    ts = await startTestServer({
      hosts: ["localhost", "other.localhost"],
      users: [
        ["root@localhost", "pw"],
        ["alice@localhost", "pw"],
        ["mallory@localhost", "pw"],
        ["root@other.localhost", "pw"],
        ["bob@other.localhost", "pw"],
      ],
      config: {
        admins: ["root@localhost"],
        components: { [COMPONENT]: { secret: SECRET } },
        http: { port: 0, tls_port: -1 },
      },
    });
    base = `http://127.0.0.1:${httpPort(ts)}`;
    root = await login("root@localhost");
    alice = await login("alice@localhost", { presence: true });
    mallory = await login("mallory@localhost", { presence: true });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts.stop();
  });

  // ---- ad-hoc commands (XEP-0050, XEP-0133, XEP-0401) ------------------------------------------------------

  it("Mallory cannot see or run the admin commands (XEP-0133 §5)", async () => {
    const list = await mallory.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoItems, node: NS.commands })),
    );
    assert.ok(!list.toString().includes(ADMIN), `${list}`);
    const form = submit({ accountjid: "evil@localhost", password: "x", "password-verify": "x" }, ADMIN);
    refused(await command(mallory, `${ADMIN}#add-user`), "forbidden");
    refused(await command(mallory, `${ADMIN}#add-user`, { form }), "forbidden");
    refused(
      await command(mallory, `${ADMIN}#delete-user`, { form: submit({ accountjids: "alice@localhost" }, ADMIN) }),
      "forbidden",
    );
    refused(await command(mallory, `${ADMIN}#change-user-password`), "forbidden");
    refused(await command(mallory, `${ADMIN}#get-online-users-list`), "forbidden");
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "evil"), false);
    assert.ok(await ts.server.core.storage.accounts.exists("localhost", "alice"));
  });

  it("Mallory cannot continue an administrator's command session (XEP-0050 §4.4)", async () => {
    const started = await command(root, `${ADMIN}#add-user`);
    const sessionid = started.getChild("command", NS.commands)?.attrs.sessionid;
    assert.ok(sessionid, `${started}`);
    const form = submit({ accountjid: "evil@localhost", password: "x", "password-verify": "x" }, ADMIN);
    refused(await command(mallory, `${ADMIN}#add-user`, { sessionid, form, action: "complete" }), "forbidden");
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "evil"), false);
    // Not even the administrator's other device: a session belongs to the full JID that started it.
    const phone = await login("root@localhost", { resource: "phone" });
    refused(await command(phone, `${ADMIN}#add-user`, { sessionid, form, action: "complete" }), "bad-request");
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "evil"), false);
  });

  it("Mallory, an account named like the admin on another host, cannot run admin commands anywhere (XEP-0133)", async () => {
    const namesake = await login("root@other.localhost");
    refused(await command(namesake, `${ADMIN}#get-registered-users-num`), "forbidden");
    const there = await namesake.iq(
      xml(
        "iq",
        { type: "set", to: "other.localhost" },
        xml("command", { xmlns: NS.commands, node: `${ADMIN}#get-registered-users-num` }),
      ),
    );
    refused(there, "forbidden");
    // The real administrator is a server administrator: every host (decision, see the file's comment).
    const asRoot = await root.iq(
      xml(
        "iq",
        { type: "set", to: "other.localhost" },
        xml("command", { xmlns: NS.commands, node: `${ADMIN}#get-registered-users-num` }),
      ),
    );
    assert.equal(asRoot.attrs.type, "result", `${asRoot}`);
  });

  it("Mallory cannot create reserved-account invitations, an admin command (XEP-0401 §3)", async () => {
    refused(await command(mallory, "urn:xmpp:invite#create-account"), "forbidden");
  });

  // ---- stream management (XEP-0198) --------------------------------------------------------------------

  it("Mallory cannot resume Alice's stream management session (XEP-0198 §5)", async () => {
    const phone = await login("alice@localhost", { presence: true, resource: "sm" });
    phone.send(xml("enable", { xmlns: SM, resume: "true" }));
    const enabled = await phone.expect((el) => el.name === "enabled" && el.attrs.xmlns === SM);
    const previd = enabled.attrs.id ?? "";
    assert.ok(previd);
    const { conn } = await authenticated(ts, "mallory");
    conn.send(xml("resume", { xmlns: SM, previd, h: "0" }));
    const r = await conn.next((x) => x.kind === "element" && x.el.attrs.xmlns === SM);
    const answer = (r as { el: XmlElement }).el;
    assert.equal(answer.name, "failed", `${answer}`);
    assert.ok(answer.getChild("item-not-found"), `${answer}`);
    assert.equal(answer.attrs.h, undefined, "nothing about Alice's session is told");
    conn.destroy();
    // Alice's session goes on.
    mallory.send(xml("message", { to: phone.jid, type: "chat" }, xml("body", null, "still yours")));
    await phone.expect(withBody("still yours"));
  });

  // ---- addresses: clients and components (RFC 6120 §8.1.2.1, XEP-0114 §3) --------------------------------

  it("Mallory cannot send stanzas from Alice's address (RFC 6120 §8.1.2.1)", async () => {
    const spoofer = await login("mallory@localhost", { resource: "spoof" });
    spoofer.send(xml("message", { from: "alice@localhost/x", to: "root@localhost" }, xml("body", null, "I am Alice")));
    assert.equal(await spoofer.conn.streamError(), "invalid-from");
    await root.nothing(300, withBody("I am Alice"));
  });

  it("A component cannot send stanzas from an address outside its domain (XEP-0114 §3)", async () => {
    const comp = await connectComponent(ts, COMPONENT, SECRET);
    comp.send(xml("message", { from: "alice@localhost", to: "root@localhost" }, xml("body", null, "from a component")));
    assert.equal(await comp.conn.streamError(), "invalid-from");
    await root.nothing(300, withBody("from a component"));
    const again = await connectComponent(ts, COMPONENT, SECRET);
    again.send(xml("message", { from: "x@other.localhost", to: "root@localhost" }, xml("body", null, "other host")));
    assert.equal(await again.conn.streamError(), "invalid-from");
  });

  it("A component cannot act as an account of the server (XEP-0114 §3)", async () => {
    const comp = await connectComponent(ts, COMPONENT, SECRET);
    const ask = async (to: string, type: string, payload: XmlElement) => {
      const id = `c-${randomBytes(4).toString("hex")}`;
      comp.send(xml("iq", { type, id, from: `mallory@${COMPONENT}`, to }, payload));
      return comp.expect((el) => el.name === "iq" && el.attrs.id === id);
    };
    refused(
      await ask("upload.localhost", "get", xml("request", { xmlns: UPLOAD, filename: "a.txt", size: "3" })),
      "not-allowed",
    );
    refused(
      await ask("localhost", "set", xml("command", { xmlns: NS.commands, node: `${ADMIN}#add-user` })),
      "forbidden",
    );
    refused(
      await ask(
        "localhost",
        "set",
        xml("query", { xmlns: NS.register }, xml("username", null, "mallory"), xml("password", null, "x")),
      ),
      "not-allowed",
    );
    refused(await ask("alice@localhost", "get", xml("query", { xmlns: NS.roster })), "service-unavailable");
    comp.close();
  });

  // ---- HTTP file upload (XEP-0363) ---------------------------------------------------------------------

  it("Mallory cannot upload in Alice's name or into Alice's slot (XEP-0363 §6)", async () => {
    const slot = async (c: TestClient, filename: string, size: number) => {
      const r = await c.iq(
        xml(
          "iq",
          { type: "get", to: "upload.localhost" },
          xml("request", { xmlns: UPLOAD, filename, size: String(size), "content-type": "text/plain" }),
        ),
      );
      const s = r.getChild("slot", UPLOAD);
      return { put: s?.getChild("put")?.attrs.url as string, get: s?.getChild("get")?.attrs.url as string };
    };
    const put = (url: string, body: string) =>
      httpCall(url, { method: "PUT", body, headers: { "Content-Type": "text/plain" } });

    const mine = await slot(mallory, "evil.txt", 4);
    const inAlicesName = new URL(mine.put);
    inAlicesName.searchParams.set("jid", "alice@localhost");
    assert.equal((await put(inAlicesName.toString(), "evil")).status, 403, "the owner is signed");

    const hers = await slot(alice, "notes.txt", 4);
    assert.equal((await put(hers.put, "mine")).status, 201);
    // Her URL again (it was used), her GET URL with Mallory's signature, Mallory's URL with her slot id.
    assert.equal((await put(hers.put, "evil")).status, 403);
    const herId = new URL(hers.get).pathname.split("/")[2] as string;
    const swapped = new URL(mine.put);
    swapped.pathname = `/upload/${herId}/evil.txt`;
    assert.equal((await put(swapped.toString(), "evil")).status, 403);
    assert.equal((await put(`${hers.get}${new URL(mine.put).search}`, "evil")).status, 403);
    const got = await httpCall(hers.get);
    assert.equal(got.status, 200);
    assert.equal(got.text, "mine");
  });

  it("Mallory cannot find uploads she has no link for (XEP-0363 §4: the GET URL is the only way)", async () => {
    const guess = randomBytes(16).toString("base64url");
    for (const path of [`/upload/${guess}/notes.txt`, "/upload/", "/upload", "/upload/../data", "/upload/%2e%2e/x"]) {
      const res = await httpCall(`${base}${path}`);
      assert.equal(res.status, 404, `${path}: ${res.status}`);
    }
  });

  // ---- invitations (XEP-0445, XEP-0401) ------------------------------------------------------------------

  it("Mallory cannot register with a guessed invitation token (XEP-0445 §4)", async () => {
    const p = await preAuth(ts);
    const letters = "abcdefghijklmnopqrstuvwxyz234567";
    const guess = [...randomBytes(26)].map((b) => letters[b & 31]).join("");
    refused(await p.iq(preauthIq(guess)), "item-not-found");
    refused(await p.iq(registration("sneaky", "password1")), "not-allowed");
    p.conn.destroy();
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "sneaky"), false);
    assert.equal((await httpCall(`${base}/invite/${guess}`)).status, 404);
  });

  // ---- HTTP endpoints -----------------------------------------------------------------------------------

  it("Mallory cannot read /status or /metrics from outside http.status_allow (docs/web.md)", async () => {
    for (const path of ["/status", "/metrics"]) {
      assert.equal((await httpCall(`${base}${path}`)).status, 200, `${path} from loopback`);
      // Through the (trusted, loopback) proxy on behalf of an outside client.
      const remote = await httpCall(`${base}${path}`, { headers: { "X-Forwarded-For": "203.0.113.7" } });
      assert.equal(remote.status, 403, `${path} from outside`);
      assert.ok(!remote.text.includes("uptime") && !remote.text.includes("hearth_"), remote.text);
    }
  });

  it("Mallory cannot use /admin without signing in, nor sign in as a non-admin (docs/upload-and-pages.md)", async () => {
    const page = await httpCall(`${base}/admin`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Sign in with an administrator account/);
    assert.ok(!page.text.includes("alice@localhost"), "no session list before signing in");
    const post = (values: Record<string, string>, headers: Record<string, string> = {}) =>
      httpCall(`${base}/admin`, {
        method: "POST",
        body: new URLSearchParams(values).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      });
    const before = (await ts.server.core.storage.invites.list()).length;
    assert.equal((await post({ action: "create-invite", host: "localhost", uses: "5", days: "7" })).status, 403);
    assert.equal((await ts.server.core.storage.invites.list()).length, before, "no invitation was created");
    assert.equal((await post({ action: "login", jid: "mallory@localhost", password: "pw" })).status, 401);
    // A password over plain HTTP from outside (through the proxy) is refused before it is checked.
    const remote = { "X-Forwarded-For": "203.0.113.8", "X-Forwarded-Proto": "http" };
    assert.equal((await post({ action: "login", jid: "root@localhost", password: "pw" }, remote)).status, 403);
  });

  it("Mallory cannot use a BOSH session she does not hold (XEP-0124 §17.2)", async () => {
    const url = `${base}/http-bind`;
    const victim = await boshLogin(url, "alice@localhost", "pw", { resource: "bosh" });
    try {
      const thief = new BoshClient(url);
      thief.sid = randomBytes(16).toString("base64url");
      const answer = await thief.post({});
      assert.equal(answer.attrs.type, "terminate");
      assert.equal(answer.attrs.condition, "item-not-found");
      // A session opened on a confidential channel (loopback here) refuses a request that arrives in the clear.
      const plain = new BoshClient(url, { "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http" });
      plain.sid = victim.sid;
      plain.rid = victim.rid + 1000;
      const refusedAnswer = await plain.post({});
      assert.equal(refusedAnswer.attrs.type, "terminate");
      assert.equal(refusedAnswer.attrs.condition, "policy-violation");
    } finally {
      await victim.close();
    }
  });
});
