import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { createInvite, type NewInvite } from "../../src/invites/create.ts";
import type { Invite } from "../../src/storage/invites.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  canLogin,
  command,
  fieldValues,
  type PreAuth,
  preAuth,
  preauthIq,
  registerIq,
  registration,
  submit,
} from "./accounts-fixtures.ts";
import { errorCondition, expectPush, items, presence, rosterGet } from "./im-fixtures.ts";

const repo = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "hearth-invites-"));
const configFile = join(tmp, "hearth.toml");
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the real CLI against the test server's data dir (SQLite lets it write while the server runs). */
function hearth(ts: TestServer, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? "", HOME: tmp, HEARTH_CONFIG: configFile };
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args, "--data-dir", ts.dataDir], {
    cwd: repo,
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end();
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

/** Registers with a token the way XEP-0445 §4 says: preauth, then XEP-0077 registration. */
async function registerWith(ts: TestServer, token: string, username: string, password: string): Promise<XmlElement> {
  const p = await preAuth(ts);
  try {
    const pre = await p.iq(preauthIq(token));
    if (pre.attrs.type !== "result") return pre;
    return await p.iq(registration(username, password));
  } finally {
    p.conn.destroy();
  }
}

/** Creates an invitation for localhost the way the server's invites service does. */
function invite(ts: TestServer, req: Omit<NewInvite, "host" | "creator"> = {}): Promise<Invite> {
  return createInvite(ts.server.core.storage, ts.config, { host: "localhost", creator: null, ...req });
}

const TOKEN = /preauth=([a-z2-7]{26})/;

describe("invitations (XEP-0401, XEP-0445, XEP-0379)", () => {
  let ts: TestServer;
  let alice: TestClient;
  before(async () => {
    writeFileSync(configFile, '[http]\nexternal_url = "https://chat.example.org/"\n');
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-pw"],
        ["bob@localhost", "bob-pw"],
        ["admin@localhost", "admin-pw"],
      ],
      config: { admins: ["admin@localhost"] },
    });
    alice = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "phone", roster: true, presence: true });
  });
  after(async () => {
    await alice.close();
    await ts.stop();
  });

  it("hearth invite prints the xmpp: URI and the invite page; the invitee registers and both are contacts", async () => {
    const out = await hearth(ts, ["invite", "--add-to-roster", "alice@localhost"]);
    assert.equal(out.code, 0, out.stderr);
    const [uri, landing] = out.stdout.trim().split("\n");
    const token = TOKEN.exec(uri ?? "")?.[1] as string;
    assert.equal(uri, `xmpp:alice@localhost?roster;preauth=${token};ibr=y`);
    assert.equal(landing, `https://chat.example.org/invite/${token}`);
    assert.match(out.stderr, /single use, valid 7d/);

    const p = await preAuth(ts);
    assert.ok(p.features.getChild("register", NS.ibrToken), "XEP-0445 stream feature");
    assert.ok(p.features.getChild("register", "urn:xmpp:invite"), "legacy XEP-0401 feature");
    assert.equal(p.features.getChild("register", NS.registerFeature), undefined, "open registration stays off");
    assert.equal(errorCondition(await p.iq(registration("sneaky", "pw"))), "not-allowed", "no token, no account");
    assert.equal((await p.iq(preauthIq(token))).attrs.type, "result");
    const form = await p.iq(registerIq("get"));
    assert.equal(form.attrs.type, "result");
    assert.equal((await p.iq(registration("juliet", "juliet-pw"))).attrs.type, "result");
    await authenticate(p.conn, "juliet", "juliet-pw", "PLAIN");
    p.conn.destroy();

    // XEP-0401 §5.6: the inviter's client learns of the new contact at once.
    const pushed = await expectPush(alice, "juliet@localhost");
    assert.equal(pushed.attrs.subscription, "both");
    const juliet = await connectClient(ts, "juliet@localhost", "juliet-pw", { roster: true });
    const roster = items(await rosterGet(juliet));
    assert.deepEqual(
      roster.map((i) => [i.attrs.jid, i.attrs.subscription]),
      [["alice@localhost", "both"]],
    );
    // Presence flows both ways.
    juliet.send(xml("presence"));
    await juliet.expect(presence("", "alice@localhost"));
    await alice.expect(presence("", "juliet@localhost"));
    await juliet.close();

    // Used: refused at presentation.
    const p2 = await preAuth(ts);
    const again = await p2.iq(preauthIq(token));
    assert.equal(errorCondition(again), "item-not-found");
    p2.conn.destroy();
  });

  it("refuses unknown and expired tokens", async () => {
    assert.equal(errorCondition(await registerWith(ts, "nosuchtokennosuchtokennosu", "x", "pw")), "item-not-found");
    const storage = ts.server.core.storage;
    const now = Date.now();
    await storage.invites.create({
      token: "expiredexpiredexpiredexpir",
      host: "localhost",
      creator: null,
      username: null,
      roster: [],
      allowRegistration: true,
      maxUses: 1,
      uses: 0,
      usedBy: [],
      createdAt: now - 10_000,
      expiresAt: now - 1,
    });
    assert.equal(errorCondition(await registerWith(ts, "expiredexpiredexpiredexpir", "late", "pw")), "item-not-found");
    assert.equal(await canLogin(ts, "late", "pw"), false);
  });

  it("checks expiry when the token is presented, not when it is used (XEP-0445 §4)", async () => {
    const inv = await invite(ts, { expiresIn: 1 });
    const p: PreAuth = await preAuth(ts);
    assert.equal((await p.iq(preauthIq(inv.token))).attrs.type, "result");
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await p.iq(registration("slowpoke", "pw"))).attrs.type, "result");
    p.conn.destroy();
    assert.ok(await canLogin(ts, "slowpoke", "pw"));
  });

  it("counts uses of a multi-use invitation and refuses it once used up", async () => {
    const out = await hearth(ts, ["invite", "--multi", "2", "--expires", "2d"]);
    assert.equal(out.code, 0, out.stderr);
    const token = TOKEN.exec(out.stdout)?.[1] as string;
    assert.match(out.stdout, new RegExp(`^xmpp:localhost\\?register;preauth=${token}$`, "m"));
    assert.equal((await registerWith(ts, token, "m1", "pw")).attrs.type, "result");
    assert.equal((await registerWith(ts, token, "m2", "pw")).attrs.type, "result");
    assert.equal(errorCondition(await registerWith(ts, token, "m3", "pw")), "item-not-found");
    const stored = await ts.server.core.storage.invites.get(token);
    assert.equal(stored?.uses, 2);
    assert.deepEqual(stored?.usedBy, ["m1@localhost", "m2@localhost"]);
    assert.equal(await canLogin(ts, "m3", "pw"), false);
  });

  it("lets exactly one of two clients racing for a single-use token create an account", async () => {
    const inv = await invite(ts);
    const a = await preAuth(ts);
    const b = await preAuth(ts);
    assert.equal((await a.iq(preauthIq(inv.token))).attrs.type, "result");
    assert.equal((await b.iq(preauthIq(inv.token))).attrs.type, "result");
    const [ra, rb] = await Promise.all([a.iq(registration("racer1", "pw")), b.iq(registration("racer2", "pw"))]);
    a.conn.destroy();
    b.conn.destroy();
    assert.deepEqual([ra.attrs.type, rb.attrs.type].sort(), ["error", "result"]);
    const loser = ra.attrs.type === "error" ? ra : rb;
    assert.equal(errorCondition(loser), "not-allowed");
    const accounts = await Promise.all(["racer1", "racer2"].map((u) => canLogin(ts, u, "pw")));
    assert.equal(accounts.filter(Boolean).length, 1);
  });

  it("creates account invitations with a reserved username for admins (XEP-0401 create-account)", async () => {
    const admin = await connectClient(ts, "admin@localhost", "admin-pw", { roster: true });
    const first = await command(admin, "urn:xmpp:invite#create-account");
    const cmd = first.getChild("command", NS.commands);
    assert.equal(cmd?.attrs.status, "executing");
    const done = await command(admin, "urn:xmpp:invite#create-account", {
      action: "complete",
      sessionid: cmd?.attrs.sessionid,
      form: submit({ username: "romeo", "roster-subscription": "1" }),
    });
    const result = done.getChild("command", NS.commands);
    assert.equal(result?.attrs.status, "completed", done.toString());
    assert.deepEqual(fieldValues(result, "FORM_TYPE"), ["urn:xmpp:invite#invitation"]);
    const [uri] = fieldValues(result, "uri");
    const token = TOKEN.exec(uri ?? "")?.[1] as string;
    assert.equal(uri, `xmpp:romeo@localhost?register;preauth=${token}`);
    assert.ok(fieldValues(result, "expire")[0]?.endsWith("Z"));

    // The name is reserved: not with another name on this token, not by anyone else's token.
    assert.equal(errorCondition(await registerWith(ts, token, "mercutio", "pw")), "not-acceptable");
    const other = await invite(ts);
    assert.equal(errorCondition(await registerWith(ts, other.token, "romeo", "pw")), "conflict");
    assert.equal((await registerWith(ts, token, "romeo", "romeo-pw")).attrs.type, "result");
    const push = await expectPush(admin, "romeo@localhost");
    assert.equal(push.attrs.subscription, "both");
    assert.equal(errorCondition(await command(alice, "urn:xmpp:invite#create-account")), "forbidden");
    await admin.close();
  });

  it("approves a pre-authenticated subscription from an existing account (XEP-0379)", async () => {
    // Alice's client asks her server for a contact invitation (XEP-0401 §5.1).
    const r = await command(alice, "urn:xmpp:invite#invite");
    const [uri] = fieldValues(r.getChild("command", NS.commands), "uri");
    const token = TOKEN.exec(uri ?? "")?.[1] as string;
    assert.equal(uri, `xmpp:alice@localhost?roster;preauth=${token};ibr=y`);

    const bob = await connectClient(ts, "bob@localhost", "bob-pw", { roster: true, presence: true });
    bob.send(xml("presence", { to: "alice@localhost", type: "subscribe" }, xml("preauth", { xmlns: NS.pars, token })));
    // Alice's server approves on her behalf and asks back; alice's client is not bothered with the request.
    await bob.expect(presence("subscribed", "alice@localhost"));
    await bob.expect(presence("subscribe", "alice@localhost"));
    await alice.nothing(200, presence("subscribe", "bob@localhost"));
    bob.send(xml("presence", { to: "alice@localhost", type: "subscribed" }));
    await expectPush(alice, "bob@localhost", (i) => i.attrs.subscription === "both");
    await expectPush(bob, "alice@localhost", (i) => i.attrs.subscription === "both");
    assert.equal((await ts.server.core.storage.invites.get(token))?.uses, 1);

    // A used (or bad) token changes nothing: the request reaches alice as usual (§4.1).
    const carol = await registerAndConnect(ts, "carol");
    carol.send(
      xml("presence", { to: "alice@localhost", type: "subscribe" }, xml("preauth", { xmlns: NS.pars, token })),
    );
    await alice.expect(presence("subscribe", "carol@localhost"));
    await carol.nothing(200, presence("subscribed", "alice@localhost"));
    await carol.close();
    await bob.close();
  });

  it("lists and revokes invitations from the CLI; invitations survive a restart", async () => {
    const out = await hearth(ts, ["invite", "--username", "tybalt"]);
    const token = TOKEN.exec(out.stdout)?.[1] as string;
    const list = await hearth(ts, ["invites", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { token: string; username: string | null; state: string }[];
    assert.deepEqual(
      rows.filter((row) => row.token === token).map((row) => [row.username, row.state]),
      [["tybalt", "usable"]],
    );
    ts = await ts.restart();
    const listed = await hearth(ts, ["invites"]);
    assert.match(listed.stdout, new RegExp(`${token}\\s+localhost\\s+usable\\s+0/1`));
    const revoked = await hearth(ts, ["invites", "revoke", token]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(errorCondition(await registerWith(ts, token, "tybalt", "pw")), "item-not-found");
    const again = await hearth(ts, ["invites", "revoke", token]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no invitation/);
    const bad = await hearth(ts, ["invite", "--add-to-roster", "nobody@localhost"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^hearth: there is no account nobody@localhost/m);
    // Reconnect alice for the after hook (the restart ended her session).
    alice = await connectClient(ts, "alice@localhost", "alice-pw");
  });
});

async function registerAndConnect(ts: TestServer, name: string): Promise<TestClient> {
  const inv = await invite(ts);
  assert.equal((await registerWith(ts, inv.token, name, `${name}-pw`)).attrs.type, "result");
  return connectClient(ts, `${name}@localhost`, `${name}-pw`, { roster: true, presence: true });
}
