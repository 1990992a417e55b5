import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, connectClient, RawConnection } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { canLogin, command, preAuth, registerIq, registration, submit } from "./accounts-fixtures.ts";
import { befriend, errorCondition, message, presence, withBody } from "./im-fixtures.ts";
import { publish } from "./pep-fixtures.ts";

const hasFeature = (features: XmlElement, ns: string) => features.getChild("register", ns) !== undefined;
const MAM = "urn:xmpp:mam:2";

describe("in-band registration (XEP-0077): closed by default", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: [["alice@localhost", "pw"]] });
  });
  after(() => ts.stop());

  it("does not offer registration, refuses it with not-allowed, and creates nothing", async () => {
    const p = await preAuth(ts);
    assert.equal(hasFeature(p.features, NS.registerFeature), false, "no iq-register stream feature");
    // Invitations still work, so the XEP-0445 feature is there.
    assert.equal(hasFeature(p.features, NS.ibrToken), true);
    const form = await p.iq(registerIq("get"));
    assert.equal(form.attrs.type, "error");
    assert.equal(errorCondition(form), "not-allowed");
    const set = await p.iq(registration("mallory", "secret"));
    assert.equal(errorCondition(set), "not-allowed");
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "mallory"), false);
    // The connection still authenticates normally afterwards.
    await authenticate(p.conn, "alice", "pw", "PLAIN");
    p.conn.destroy();
  });

  it("answers nothing before TLS when encryption is required: the stream ends with not-authorized", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("localhost");
    await conn.streamOpen();
    await conn.element("stream:features");
    conn.send(registerIq("get"));
    assert.equal(await conn.streamError(), "not-authorized");
    conn.destroy();
  });
});

describe("in-band registration (XEP-0077): open", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [["bob@localhost", "bob-pw"]],
      config: { registration: { open: true, max_per_ip: 4 } },
    });
  });
  after(() => ts.stop());

  it("offers the feature and the form, registers, then authenticates with the new account on the same stream", async () => {
    const p = await preAuth(ts);
    assert.ok(hasFeature(p.features, NS.registerFeature), "iq-register stream feature");
    const form = await p.iq(registerIq("get"));
    assert.equal(form.attrs.type, "result");
    const query = form.getChild("query", NS.register);
    assert.ok(query);
    assert.ok(query.getChild("username") && query.getChild("password") && query.getChild("instructions"));
    assert.equal(query.getChild("registered"), undefined, "not registered yet");
    assert.ok(query.getChild("x", NS.dataForms), "a data form too (§4)");

    const ok = await p.iq(registration("Carol", "carol-pw"));
    assert.equal(ok.attrs.type, "result", ok.toString());
    // One account per connection (§3.1 "register a second identity").
    const again = await p.iq(registration("carol2", "pw"));
    assert.equal(errorCondition(again), "not-acceptable");
    await authenticate(p.conn, "carol", "carol-pw", "PLAIN");
    p.conn.destroy();
    assert.ok(await ts.server.core.storage.accounts.exists("localhost", "carol"), "stored under the normalized name");
  });

  it("accepts the registration data form too", async () => {
    const p = await preAuth(ts);
    const r = await p.iq(registerIq("set", submit({ username: "dora", password: "dora-pw" }, NS.register)));
    assert.equal(r.attrs.type, "result", r.toString());
    p.conn.destroy();
    assert.ok(await canLogin(ts, "dora", "dora-pw"));
  });

  it("refuses a taken username with conflict and missing fields with not-acceptable", async () => {
    const p = await preAuth(ts);
    assert.equal(errorCondition(await p.iq(registration("bob", "x"))), "conflict");
    assert.equal(errorCondition(await p.iq(registerIq("set", xml("username", null, "eve")))), "not-acceptable");
    assert.equal(errorCondition(await p.iq(registration("eve", ""))), "not-acceptable", "an empty password is none");
    assert.equal(errorCondition(await p.iq(registration("bad@name", "pw"))), "not-acceptable");
    p.conn.destroy();
    assert.ok(await canLogin(ts, "bob", "bob-pw"), "the existing account is untouched");
  });

  it("limits accounts per IP address per hour (registration.max_per_ip)", async () => {
    // Two accounts so far from 127.0.0.1 (carol, dora); the limit is 4.
    for (const name of ["erin", "frank"]) {
      const p = await preAuth(ts);
      assert.equal((await p.iq(registration(name, "pw"))).attrs.type, "result");
      p.conn.destroy();
    }
    const p = await preAuth(ts);
    const refused = await p.iq(registration("grace", "pw"));
    assert.equal(errorCondition(refused), "resource-constraint");
    p.conn.destroy();
  });

  it("tells a logged-in user it is registered, and changes the password (§3.3)", async () => {
    const bob = await connectClient(ts, "bob@localhost", "bob-pw");
    const info = await bob.iq(registerIq("get"));
    const q = info.getChild("query", NS.register);
    assert.ok(q?.getChild("registered"));
    assert.equal(q?.getChildText("username"), "bob");
    assert.equal(q?.getChildText("password"), "", "the password is never sent back");

    assert.equal(errorCondition(await bob.iq(registration("carol", "hijack"))), "bad-request", "not your username");
    assert.equal(errorCondition(await bob.iq(registration("bob", ""))), "bad-request", "no empty password");
    assert.ok(await canLogin(ts, "carol", "carol-pw"));

    const changed = await bob.iq(registration("bob", "new-bob-pw"));
    assert.equal(changed.attrs.type, "result");
    assert.equal(await canLogin(ts, "bob", "bob-pw"), false, "the old password stops working");
    assert.ok(await canLogin(ts, "bob", "new-bob-pw"));

    // §4 change form with the old password: a wrong one is refused.
    const wrong = await bob.iq(
      registerIq(
        "set",
        submit({ username: "bob", old_password: "nope", password: "x" }, "jabber:iq:register:changepassword"),
      ),
    );
    assert.equal(errorCondition(wrong), "not-authorized");
    const right = await bob.iq(
      registerIq(
        "set",
        submit(
          { username: "bob", old_password: "new-bob-pw", password: "bob-pw" },
          "jabber:iq:register:changepassword",
        ),
      ),
    );
    assert.equal(right.attrs.type, "result");
    assert.ok(await canLogin(ts, "bob", "bob-pw"));
    await bob.close();
  });

  it("refuses <remove/> before authentication and with other children", async () => {
    const p = await preAuth(ts);
    assert.equal(errorCondition(await p.iq(registerIq("set", xml("remove")))), "unexpected-request");
    p.conn.destroy();
    const bob = await connectClient(ts, "bob@localhost", "bob-pw");
    const bad = await bob.iq(registerIq("set", xml("remove"), xml("username", null, "bob")));
    assert.equal(errorCondition(bad), "bad-request");
    await bob.close();
    assert.ok(await canLogin(ts, "bob", "bob-pw"));
  });
});

describe("account removal (XEP-0077 §3.2) deletes all of the user's data", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-pw"],
        ["bob@localhost", "bob-pw"],
      ],
      config: { registration: { open: true } },
    });
  });
  after(() => ts.stop());

  it("ends every session, tells contacts, fires account.deleted, and leaves nothing behind (also after a restart)", async () => {
    const host = ts.server.core.hosts.get("localhost");
    assert.ok(host);
    const loaded = new Set(host.modules);
    const deleted: string[] = [];
    host.events.on("account.deleted", ({ username }) => {
      deleted.push(username);
    });

    const alice = await connectClient(ts, "alice@localhost", "alice-pw", {
      resource: "phone",
      roster: true,
      presence: true,
    });
    const bob = await connectClient(ts, "bob@localhost", "bob-pw", { resource: "desk", roster: true, presence: true });
    await befriend(alice, bob);
    const laptop = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "laptop" });

    // Data in every store a module keeps for alice.
    bob.send(message("alice@localhost", "archived hello"));
    await alice.expect(withBody("archived hello"));
    if (loaded.has("private-storage")) {
      const r = await alice.iq(
        xml(
          "iq",
          { type: "set" },
          xml("query", { xmlns: "jabber:iq:private" }, xml("notes", { xmlns: "urn:example:notes" }, "secret")),
        ),
      );
      assert.equal(r.attrs.type, "result");
    }
    if (loaded.has("vcard")) {
      const r = await alice.iq(
        xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" }, xml("FN", null, "Alice"))),
      );
      assert.equal(r.attrs.type, "result");
    }
    assert.equal(
      (await publish(alice, "urn:example:status", xml("status", { xmlns: "urn:example:status" }, "hi"))).attrs.type,
      "result",
    );
    const invited = await command(alice, "urn:xmpp:invite#invite");
    assert.equal(invited.attrs.type, "result", invited.toString());
    const storage = ts.server.core.storage;
    await storage.offline.push(
      "localhost",
      "alice",
      "<message from='x@y' to='alice@localhost'><body>x</body></message>",
      Date.now(),
    );
    assert.equal((await storage.invites.list("localhost")).filter((i) => i.creator === "alice@localhost").length, 1);

    const removed = await alice.iq(registerIq("set", xml("remove")));
    assert.equal(removed.attrs.type, "result");
    // Both of alice's sessions end with not-authorized (§3.2).
    assert.equal(await alice.conn.streamError(), "not-authorized");
    assert.equal(await laptop.conn.streamError(), "not-authorized");
    // Bob's subscriptions end (RFC 6121 §2.5.2 on alice's behalf) and he sees her go.
    await bob.expect(presence("unavailable", "alice@localhost"));
    await bob.expect(presence("unsubscribe", "alice@localhost"));
    await bob.expect(presence("unsubscribed", "alice@localhost"));
    alice.conn.destroy();
    laptop.conn.destroy();

    assert.deepEqual(deleted, ["alice"], "account.deleted fired once");
    assert.equal(await canLogin(ts, "alice", "alice-pw"), false);
    assert.equal(await storage.accounts.exists("localhost", "alice"), false);
    assert.equal((await storage.roster.get("localhost", "alice")).items.length, 0);
    assert.equal(await storage.offline.count("localhost", "alice"), 0);
    assert.deepEqual(await storage.pubsub.listNodes("alice@localhost"), []);
    const archive = await storage.archive.query({ host: "localhost", owner: "alice", kind: "user" }, { limit: 100 });
    assert.equal(archive.count, 0);
    assert.equal((await storage.invites.list("localhost")).filter((i) => i.creator === "alice@localhost").length, 0);
    // Bob's archive is his: it keeps the conversation.
    const bobs = await storage.archive.query({ host: "localhost", owner: "bob", kind: "user" }, { limit: 100 });
    assert.ok(bobs.count >= 1);
    await bob.close();

    // Persisted: a restart brings nothing back.
    ts = await ts.restart();
    assert.equal(await canLogin(ts, "alice", "alice-pw"), false);

    // A new account under the same name starts empty, as the protocols show it.
    const p = await preAuth(ts);
    assert.equal((await p.iq(registration("alice", "new-pw"))).attrs.type, "result");
    p.conn.destroy();
    const again = await connectClient(ts, "alice@localhost", "new-pw");
    const roster = await again.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    assert.equal(roster.getChild("query", NS.roster)?.elements().length, 0, "empty roster");
    if (loaded.has("private-storage")) {
      const r = await again.iq(
        xml(
          "iq",
          { type: "get" },
          xml("query", { xmlns: "jabber:iq:private" }, xml("notes", { xmlns: "urn:example:notes" })),
        ),
      );
      assert.equal(r.getChild("query")?.getChild("notes")?.text() ?? "", "", "no private XML");
    }
    if (loaded.has("vcard")) {
      const r = await again.iq(xml("iq", { type: "get" }, xml("vCard", { xmlns: "vcard-temp" })));
      assert.equal(r.getChild("vCard")?.getChild("FN"), undefined, "no vCard");
    }
    const mam = await again.iq(xml("iq", { type: "set" }, xml("query", { xmlns: MAM, queryid: "q1" })));
    assert.equal(mam.attrs.type, "result");
    await again.nothing(200, (el) => el.name === "message" && el.getChild("result", MAM) !== undefined);
    await again.close();
  });
});
