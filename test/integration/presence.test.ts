import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, expectPush, items, presence, rosterGet, subscribe } from "./im-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal", "ivy", "jo", "mallory"];

describe("presence (RFC 6121 §3, §4)", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string, opts: Parameters<typeof connectClient>[3] = {}) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { roster: true, ...opts });
    open.push(c);
    return c;
  };
  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts.stop();
  });

  it("Alice adds Bob, Bob approves, and both see each other's presence", async () => {
    const alice = await login("alice", { presence: true });
    const bob = await login("bob", { presence: true });

    // §3.1.2: Alice's request updates her roster (ask="subscribe") and reaches Bob from her bare JID.
    alice.send(xml("presence", { to: "bob@localhost", type: "subscribe", id: "sub1" }));
    const asking = await expectPush(alice, "bob@localhost");
    assert.equal(asking.attrs.subscription, "none");
    assert.equal(asking.attrs.ask, "subscribe");
    const request = await bob.expect(presence("subscribe"));
    assert.equal(request.attrs.from, "alice@localhost");
    assert.equal(request.attrs.to, "bob@localhost");
    // §3.1.3: a pending request is not shown in Bob's roster.
    assert.equal(items(await rosterGet(bob)).length, 0);

    // §3.1.5: Bob approves; both rosters are pushed and Alice gets Bob's current presence.
    bob.send(xml("presence", { to: "alice@localhost", type: "subscribed" }));
    assert.equal((await expectPush(bob, "alice@localhost")).attrs.subscription, "from");
    await alice.expect(presence("subscribed", "bob@localhost"));
    const to = await expectPush(alice, "bob@localhost", (i) => i.attrs.subscription === "to");
    assert.equal(to.attrs.ask, undefined);
    await alice.expect(presence("", bob.jid));

    // Bob subscribes back; now it is mutual.
    await subscribe(bob, alice);
    await bob.expect(presence("", alice.jid));
    assert.equal(items(await rosterGet(alice))[0]?.attrs.subscription, "both");
    assert.equal(items(await rosterGet(bob))[0]?.attrs.subscription, "both");

    // §4.4: updates reach the contact (and the sender's own resources, itself included).
    bob.send(xml("presence", null, xml("show", null, "away"), xml("status", null, "lunch")));
    const update = await alice.expect((el) => presence("", bob.jid)(el) && el.getChildText("show") === "away");
    assert.equal(update.getChildText("status"), "lunch");
    await bob.expect((el) => presence("", bob.jid)(el) && el.getChildText("show") === "away");

    // §4.5: unavailable presence reaches the contact.
    bob.send(xml("presence", { type: "unavailable" }, xml("status", null, "bye")));
    const gone = await alice.expect(presence("unavailable", bob.jid));
    assert.equal(gone.getChildText("status"), "bye");

    // §4.3: a resource that comes online probes and learns the contact's presence; Bob is away, so
    // unavailable comes back (with when he left: XEP-0203, RFC 6121 §4.3.2).
    const alice2 = await login("alice", { resource: "second", presence: true });
    const probeAnswer = await alice2.expect(presence("unavailable", "bob@localhost"));
    assert.equal(probeAnswer.attrs.from, "bob@localhost");
    assert.equal(probeAnswer.getChild("delay", NS.delay), undefined, "Bob is still connected: no logout time");
    // ... and Alice's first resource sees the second one come online, and vice versa (§4.2.2).
    await alice.expect(presence("", alice2.jid));
    await alice2.expect(presence("", alice.jid));
    await alice2.expect(presence("", alice2.jid));

    // Bob becomes available again; an abrupt disconnect still tells Alice he is gone (§4.5.4).
    bob.send(xml("presence"));
    await alice2.expect(presence("", bob.jid));
    bob.conn.destroy();
    await alice.expect(presence("unavailable", bob.jid));
    await alice2.expect(presence("unavailable", bob.jid));

    // Now Bob is logged out: a probe answer says since when (XEP-0203).
    const alice3 = await login("alice", { resource: "third", presence: true });
    const lastSeen = await alice3.expect(presence("unavailable", "bob@localhost"));
    const stamp = lastSeen.getChild("delay", NS.delay)?.attrs.stamp;
    assert.ok(stamp && Math.abs(Date.parse(stamp) - Date.now()) < 10_000, `a recent logout time: ${stamp}`);
  });

  it("keeps a request for an offline contact and delivers it at each login until it is answered (§3.1.3)", async () => {
    const carol = await login("carol", { presence: true });
    carol.send(xml("presence", { to: "dave@localhost", type: "subscribe" }, xml("status", null, "it's Carol")));
    await expectPush(carol, "dave@localhost", (i) => i.attrs.ask === "subscribe");

    let dave = await login("dave");
    await dave.nothing(200, presence("subscribe"));
    dave.send(xml("presence"));
    const first = await dave.expect(presence("subscribe", "carol@localhost"));
    assert.equal(first.getChildText("status"), "it's Carol", "the stored request is delivered as it was sent");
    await dave.close();

    dave = await login("dave", { presence: true });
    await dave.expect(presence("subscribe", "carol@localhost"));
    dave.send(xml("presence", { to: "carol@localhost", type: "subscribed" }));
    await expectPush(carol, "dave@localhost", (i) => i.attrs.subscription === "to");
    await carol.expect(presence("", dave.jid));
    await dave.close();

    // Answered: not delivered again.
    dave = await login("dave", { presence: true });
    await dave.nothing(300, presence("subscribe"));
  });

  it("answers a request itself when the contact is already subscribed, repairing a desynchronized roster (§3.1.3)", async () => {
    const erin = await login("erin", { presence: true });
    const frank = await login("frank", { presence: true });
    await subscribe(frank, erin);
    // Frank's roster lost the subscription (as after a server crash on his side): it says he is still asking.
    await ts.server.core.storage.roster.setItem("localhost", "frank", {
      jid: "erin@localhost",
      name: null,
      subscription: "none",
      askOut: true,
      askIn: false,
      approved: false,
      groups: [],
      pendingInStanza: null,
    });
    frank.send(xml("presence", { to: "erin@localhost", type: "subscribe" }));
    // Erin's server answers on her behalf (§A.3.1 footnote) and sends her presence again.
    await frank.expect(presence("subscribed", "erin@localhost"));
    await expectPush(frank, "erin@localhost", (i) => i.attrs.subscription === "to");
    await frank.expect((el) => presence("", erin.jid)(el));
    await erin.nothing(200, presence("subscribe"));
  });

  it("pre-approves a subscription request (§3.4)", async () => {
    const gina = await login("gina", { presence: true });
    const hal = await login("hal", { presence: true });
    gina.send(xml("presence", { to: "hal@localhost", type: "subscribed" }));
    const approved = await expectPush(gina, "hal@localhost");
    assert.equal(approved.attrs.approved, "true");
    assert.equal(approved.attrs.subscription, "none");
    await hal.nothing(200, presence("subscribed"));

    hal.send(xml("presence", { to: "gina@localhost", type: "subscribe" }));
    await hal.expect(presence("subscribed", "gina@localhost"));
    await hal.expect(presence("", gina.jid));
    const from = await expectPush(gina, "hal@localhost", (i) => i.attrs.subscription === "from");
    assert.equal(from.attrs.approved, undefined, "the pre-approval is used up");
    await gina.nothing(200, presence("subscribe"));
  });

  it("ends subscriptions with unsubscribe and unsubscribed (§3.2, §3.3)", async () => {
    const ivy = await login("ivy", { presence: true });
    const jo = await login("jo", { presence: true });
    await befriend(ivy, jo);

    // Ivy no longer wants Jo's presence: Jo's server sends unavailable for Jo's resources (§3.3.3).
    ivy.send(xml("presence", { to: "jo@localhost", type: "unsubscribe" }));
    await expectPush(ivy, "jo@localhost", (i) => i.attrs.subscription === "from");
    await jo.expect(presence("unsubscribe", "ivy@localhost"));
    await expectPush(jo, "ivy@localhost", (i) => i.attrs.subscription === "to");
    await ivy.expect(presence("unavailable", jo.jid));

    // Ivy cancels Jo's subscription to her (§3.2.2).
    ivy.send(xml("presence", { to: "jo@localhost", type: "unsubscribed" }));
    await expectPush(ivy, "jo@localhost", (i) => i.attrs.subscription === "none");
    await jo.expect(presence("unsubscribed", "ivy@localhost"));
    await jo.expect(presence("unavailable", ivy.jid));
    await expectPush(jo, "ivy@localhost", (i) => i.attrs.subscription === "none");

    // No subscription left: presence updates go nowhere.
    ivy.send(xml("presence", null, xml("show", null, "dnd")));
    await ivy.expect((el) => presence("", ivy.jid)(el) && el.getChildText("show") === "dnd");
    await jo.nothing(200, (el) => presence("", ivy.jid)(el) && el.getChildText("show") === "dnd");
  });

  it("sends directed presence and its unavailable when the session ends (§4.6)", async () => {
    const mallory = await login("mallory", { presence: true });
    const frank = await login("frank", { resource: "directed", presence: true });
    mallory.send(xml("presence", { to: frank.jid }, xml("status", null, "hi")));
    await frank.expect(presence("", mallory.jid));
    await mallory.close();
    await frank.expect(presence("unavailable", mallory.jid));
  });

  it("does not reveal presence to unauthorized probes and answers requests to missing accounts (§4.3.2, §8.5.1)", async () => {
    const mallory = await login("mallory", { resource: "probe", presence: true });
    // Alice's server answers "unsubscribed", which Mallory's server does not deliver in state None (§A.3.4).
    mallory.send(xml("presence", { to: "alice@localhost", type: "probe" }));
    await mallory.nothing(300, (el) => el.name === "presence" && (el.attrs.from ?? "").startsWith("alice@localhost"));

    mallory.send(xml("presence", { to: "nobody@localhost", type: "subscribe" }));
    await expectPush(mallory, "nobody@localhost", (i) => i.attrs.ask === "subscribe");
    await mallory.expect(presence("unsubscribed", "nobody@localhost"));
    const item = await expectPush(mallory, "nobody@localhost", (i) => i.attrs.ask === undefined);
    assert.equal(item.attrs.subscription, "none");
  });

  it("rejects a priority outside -128..127 (RFC 6121 §4.7.2.3)", async () => {
    const erin = await login("erin", { resource: "bad-priority" });
    erin.send(xml("presence", null, xml("priority", null, "300")));
    const err = await erin.expect(presence("error"));
    assert.equal(errorCondition(err), "bad-request");
  });
});
