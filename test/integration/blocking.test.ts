import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, message, presence, withBody } from "./im-fixtures.ts";
import { bodies, mamQuery } from "./mam-fixtures.ts";

const BLOCKING = "urn:xmpp:blocking";
const BLOCKING_ERRORS = "urn:xmpp:blocking:errors";

function blocklistGet(c: TestClient): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: BLOCKING })));
}

function blockedJids(iq: XmlElement): string[] {
  return (
    (iq.getChild("blocklist", BLOCKING) ?? iq.getChild("block", BLOCKING) ?? iq.getChild("unblock", BLOCKING))
      ?.getChildren("item")
      .map((i) => i.attrs.jid ?? "") ?? []
  );
}

function command(c: TestClient, name: "block" | "unblock", jids: string[]): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set" }, xml(name, { xmlns: BLOCKING }, ...jids.map((jid) => xml("item", { jid })))));
}

/** Waits for a block/unblock push and returns its payload. */
async function expectPush(c: TestClient, name: "block" | "unblock"): Promise<XmlElement> {
  const iq = await c.expect((el) => el.name === "iq" && el.attrs.type === "set" && !!el.getChild(name, BLOCKING));
  assert.ok(iq.attrs.from === undefined || iq.attrs.from === c.bare);
  return iq;
}

function isBlockedError(el: XmlElement): boolean {
  const error = el.getChild("error");
  return (
    el.attrs.type === "error" &&
    error?.attrs.type === "cancel" &&
    errorCondition(el) === "not-acceptable" &&
    error.getChild("blocked", BLOCKING_ERRORS) !== undefined
  );
}

describe("blocking command (XEP-0191)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      hosts: ["localhost", "example.test", "chat.example.test"],
      users: [
        ...["alice", "bob", "carol", "dave", "erin"].map((u): [string, string] => [`${u}@localhost`, "pw"]),
        ["mallory@example.test", "pw"],
        ["trudy@chat.example.test", "pw"],
      ],
    });
  });
  after(() => ts.stop());

  it("advertises urn:xmpp:blocking and manages the list with pushes to the resources that asked for it", async () => {
    const desk = await connectClient(ts, "alice@localhost", "pw", { resource: "desk" });
    const phone = await connectClient(ts, "alice@localhost", "pw", { resource: "phone" });
    const quiet = await connectClient(ts, "alice@localhost", "pw", { resource: "quiet" });
    const info = await desk.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === BLOCKING),
    );

    assert.deepEqual(blockedJids(await blocklistGet(desk)), []);
    assert.deepEqual(blockedJids(await blocklistGet(phone)), []);

    const r = await command(desk, "block", ["bob@localhost", "Carol@LOCALHOST"]);
    assert.equal(r.attrs.type, "result");
    for (const c of [desk, phone]) {
      assert.deepEqual(blockedJids(await expectPush(c, "block")), ["bob@localhost", "carol@localhost"]);
    }
    await quiet.nothing(200, (el) => el.name === "iq");
    assert.deepEqual(blockedJids(await blocklistGet(quiet)), ["bob@localhost", "carol@localhost"]);

    assert.equal((await command(desk, "unblock", ["carol@localhost"])).attrs.type, "result");
    for (const c of [desk, phone, quiet]) {
      assert.deepEqual(blockedJids(await expectPush(c, "unblock")), ["carol@localhost"]);
    }
    assert.deepEqual(blockedJids(await blocklistGet(phone)), ["bob@localhost"]);

    // §3.5 unblock all: an empty <unblock/> and an empty push.
    await command(desk, "block", ["dave@localhost"]);
    for (const c of [desk, phone, quiet]) await expectPush(c, "block");
    assert.equal((await command(phone, "unblock", [])).attrs.type, "result");
    for (const c of [desk, phone, quiet]) assert.deepEqual(blockedJids(await expectPush(c, "unblock")), []);
    assert.deepEqual(blockedJids(await blocklistGet(desk)), []);

    // Errors: no item, a bad JID, somebody else's list.
    assert.equal(errorCondition(await command(desk, "block", [])), "bad-request");
    assert.equal(errorCondition(await command(desk, "block", ["@nope"])), "jid-malformed");
    const bob = await connectClient(ts, "bob@localhost", "pw");
    const foreign = await bob.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("blocklist", { xmlns: BLOCKING })),
    );
    assert.equal(errorCondition(foreign), "service-unavailable");
    await Promise.all([desk.close(), phone.close(), quiet.close(), bob.close()]);
  });

  it("stops messages, presence and iq from a blocked contact and refuses the user's stanzas to it", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "phone", presence: true });
    await command(alice, "block", ["bob@localhost"]);

    // Inbound (§3.3): message → service-unavailable, iq get/set → service-unavailable, presence and results dropped.
    bob.send(message("alice@localhost", "let me in", "chat", "m1"));
    const bounced = await bob.expect((el) => el.name === "message" && el.attrs.id === "m1");
    assert.equal(bounced.attrs.type, "error");
    assert.equal(errorCondition(bounced), "service-unavailable");
    const ping = await bob.iq(xml("iq", { type: "get", to: alice.jid }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    assert.equal(errorCondition(ping), "service-unavailable");
    const disco = await bob.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    assert.equal(errorCondition(disco), "service-unavailable", "even iqs the server answers for the account");
    bob.send(xml("presence", { to: "alice@localhost" }));
    bob.send(xml("presence", { to: "alice@localhost", type: "subscribe" }));
    bob.send(xml("iq", { type: "result", id: "r1", to: alice.jid }));
    bob.send(message(alice.jid, "typed", "error"));
    await alice.nothing(300, (el) => el.attrs.from?.startsWith("bob@") === true);
    await bob.nothing(100, (el) => el.attrs.type === "error");

    // Outbound: not routed, not-acceptable with <blocked/>.
    alice.send(message("bob@localhost", "hello?", "chat", "o1"));
    assert.ok(isBlockedError(await alice.expect((el) => el.attrs.id === "o1")));
    alice.send(xml("presence", { to: "bob@localhost/phone", id: "p1" }));
    assert.ok(isBlockedError(await alice.expect((el) => el.attrs.id === "p1")));
    const iq = await alice.iq(xml("iq", { type: "get", to: bob.jid }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    assert.ok(isBlockedError(iq));
    await bob.nothing(200, (el) => el.attrs.from?.startsWith("alice@") === true);

    // Nothing blocked is archived.
    assert.ok(!bodies(await mamQuery(alice)).some((b) => b === "let me in" || b === "hello?"));

    await command(alice, "unblock", ["bob@localhost"]);
    await chat(bob, alice, "again friends");
    await chat(alice, bob, "yes");
    await Promise.all([alice.close(), bob.close()]);
  });

  it("sends unavailable presence to a blocked contact and current presence after unblocking", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { resource: "pc", roster: true, presence: true });
    const dave = await connectClient(ts, "dave@localhost", "pw", { resource: "pc", roster: true, presence: true });
    await befriend(carol, dave);
    // The presence exchanged on approval (RFC 6121 §3.1.5) arrives before the block.
    await dave.expect(presence("", carol.jid));
    await carol.expect(presence("", dave.jid));
    await blocklistGet(carol);
    await command(carol, "block", ["dave@localhost"]);
    await dave.expect(presence("unavailable", carol.jid));

    // A later broadcast from carol does not reach dave; dave's does not reach carol.
    carol.send(xml("presence", null, xml("status", null, "busy")));
    await carol.expect(presence("", carol.jid));
    dave.send(xml("presence", null, xml("status", null, "hello?")));
    await dave.expect(presence("", dave.jid));
    await dave.nothing(300, presence("", "carol@localhost"));
    await carol.nothing(100, presence("", "dave@localhost"));

    await command(carol, "unblock", ["dave@localhost"]);
    const back = await dave.expect(presence("", carol.jid));
    assert.equal(back.getChildText("status"), "busy", "the current presence");
    await Promise.all([carol.close(), dave.close()]);
  });

  it("matches domains, subdomains and full JIDs (§6)", async () => {
    const erin = await connectClient(ts, "erin@localhost", "pw", { resource: "home", presence: true });
    const mallory = await connectClient(ts, "mallory@example.test", "pw", { presence: true });
    const trudy = await connectClient(ts, "trudy@chat.example.test", "pw", { presence: true });
    const bobPhone = await connectClient(ts, "bob@localhost", "pw", { resource: "phone", presence: true });
    const bobLaptop = await connectClient(ts, "bob@localhost", "pw", { resource: "laptop", presence: true });
    await command(erin, "block", ["example.test", "bob@localhost/phone"]);

    for (const [c, id] of [
      [mallory, "d1"],
      [trudy, "d2"],
      [bobPhone, "d3"],
    ] as const) {
      c.send(message("erin@localhost", "spam", "chat", id));
      assert.equal(errorCondition(await c.expect((el) => el.attrs.id === id)), "service-unavailable", id);
    }
    await chat(bobLaptop, erin, "from the laptop");
    // The user's own stanzas: to the blocked domain refused, to the other resource fine.
    erin.send(message("mallory@example.test", "x", "chat", "o2"));
    assert.ok(isBlockedError(await erin.expect((el) => el.attrs.id === "o2")));
    await chat(erin, bobLaptop, "to the laptop", bobLaptop.jid);
    await command(erin, "unblock", []);
    await Promise.all([erin, mallory, trudy, bobPhone, bobLaptop].map((c) => c.close()));
  });

  it("keeps a block for an offline user and across a restart; blocked messages are neither stored nor archived", async () => {
    let alice = await connectClient(ts, "alice@localhost", "pw");
    await command(alice, "block", ["mallory@example.test"]);
    await alice.close();
    ts = await ts.restart();

    let mallory = await connectClient(ts, "mallory@example.test", "pw");
    mallory.send(message("alice@localhost", "are you there", "chat", "x1"));
    assert.equal(errorCondition(await mallory.expect((el) => el.attrs.id === "x1")), "service-unavailable");
    assert.equal(await ts.server.core.storage.offline.count("localhost", "alice"), 0);

    alice = await connectClient(ts, "alice@localhost", "pw", { presence: true });
    assert.deepEqual(blockedJids(await blocklistGet(alice)), ["mallory@example.test"]);
    assert.ok(!bodies(await mamQuery(alice)).includes("are you there"));
    await alice.nothing(200, withBody("are you there"));

    // Account deletion removes the list.
    await alice.close();
    await mallory.close();
    await ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "alice" });
    assert.deepEqual(await ts.server.core.storage.kv.keys("localhost", "alice", "blocklist"), []);
    mallory = await connectClient(ts, "mallory@example.test", "pw");
    alice = await connectClient(ts, "alice@localhost", "pw", { presence: true });
    await chat(mallory, alice, "unblocked by deletion");
    await Promise.all([alice.close(), mallory.close()]);
  });
});

/** Sends a chat message and waits until the recipient has it. */
async function chat(from: TestClient, to: TestClient, body: string, toJid = to.bare): Promise<XmlElement> {
  from.send(message(toJid, body));
  return to.expect(withBody(body));
}
