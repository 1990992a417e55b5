import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";
import { serverSuite } from "../helpers/suite.ts";
import { befriend, errorCondition } from "./im-fixtures.ts";
import { event, getItems, itemIds, itemsOf, notify, publish, pubsubCondition, sendCaps } from "./pep-fixtures.ts";

const VCARD = "vcard-temp";
const VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0";
const VCARD4_NODE = "urn:xmpp:vcard4";
const NICK = "http://jabber.org/protocol/nick";

function vcardGet(c: TestClient, to?: string): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "get", to }, xml("vCard", { xmlns: VCARD })));
}

function vcardSet(c: TestClient, ...children: XmlElement[]): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set" }, xml("vCard", { xmlns: VCARD }, ...children)));
}

const vcard4 = (fn: string) => xml("vcard", { xmlns: VCARD4 }, xml("fn", null, xml("text", null, fn)));

describe("vcard-temp (XEP-0054), vCard4 (XEP-0292) and nickname (XEP-0172)", () => {
  const suite = serverSuite(["alice", "bob", "carol", "dave"]);
  const login = suite.login;

  it("stores the user's vCard, which anyone may read at the bare JID", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    const info = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === VCARD),
    );

    // §3.1: no vCard yet: an empty one for the owner, item-not-found for others (as for a missing account).
    const empty = await vcardGet(alice);
    assert.equal(empty.getChild("vCard", VCARD)?.children.length, 0);
    assert.equal(errorCondition(await vcardGet(bob, "alice@localhost")), "item-not-found");
    assert.equal(errorCondition(await vcardGet(bob, "nobody@localhost")), "item-not-found");

    const set = await vcardSet(alice, xml("FN", null, "Alice Liddell"), xml("NICKNAME", null, "alice ✿"));
    assert.equal(set.attrs.type, "result");
    const own = await vcardGet(alice);
    assert.equal(own.getChild("vCard", VCARD)?.getChildText("FN"), "Alice Liddell");
    const seen = await vcardGet(bob, "alice@localhost");
    assert.equal(seen.attrs.from, "alice@localhost");
    assert.equal(seen.getChild("vCard", VCARD)?.getChildText("NICKNAME"), "alice ✿");

    // §3.2: nobody sets someone else's vCard; and vCards have a size limit.
    const foreign = await bob.iq(
      xml("iq", { type: "set", to: "alice@localhost" }, xml("vCard", { xmlns: VCARD }, xml("FN", null, "Mallory"))),
    );
    assert.equal(errorCondition(foreign), "forbidden");
    const huge = await vcardSet(alice, xml("DESC", null, "x".repeat(150 * 1024)));
    assert.equal(errorCondition(huge), "not-acceptable");
    assert.equal((await vcardGet(alice)).getChild("vCard", VCARD)?.getChildText("FN"), "Alice Liddell");
  });

  it("keeps vCards across a restart and removes them with the account", async () => {
    const carol = await login("carol");
    await vcardSet(carol, xml("FN", null, "Carol"));
    await carol.close();
    await suite.restart();
    const again = await login("carol");
    assert.equal((await vcardGet(again)).getChild("vCard", VCARD)?.getChildText("FN"), "Carol");
    await suite.ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "carol" });
    assert.equal(await suite.ts.server.core.storage.kv.get("localhost", "carol", "vcard", ""), null);
  });

  it("publishes a vCard4 to urn:xmpp:vcard4, notifies interested contacts, and serves it by PEP and by IQ", async () => {
    const alice = await login("alice", { roster: true, presence: true });
    const bob = await login("bob", { roster: true, presence: true });
    await befriend(alice, bob);
    await sendCaps(bob, notify(VCARD4_NODE));
    const dave = await login("dave");

    const r = await publish(alice, VCARD4_NODE, vcard4("Alice L."), { id: "current" });
    assert.equal(r.attrs.type, "result");
    const ev = await bob.expect(event(VCARD4_NODE, "alice@localhost"));
    assert.equal(itemsOf(ev)[0]?.getChild("vcard", VCARD4)?.getChild("fn")?.getChildText("text"), "Alice L.");

    const viaPep = await getItems(bob, VCARD4_NODE, { to: "alice@localhost" });
    assert.deepEqual(itemIds(viaPep), ["current"]);
    const viaIq = await bob.iq(xml("iq", { type: "get", to: "alice@localhost" }, xml("vcard", { xmlns: VCARD4 })));
    assert.equal(viaIq.getChild("vcard", VCARD4)?.getChild("fn")?.getChildText("text"), "Alice L.");
    // The node keeps the default access model (presence): Dave has no subscription.
    const denied = await getItems(dave, VCARD4_NODE, { to: "alice@localhost" });
    assert.equal(pubsubCondition(denied), "presence-subscription-required");
    const deniedIq = await dave.iq(xml("iq", { type: "get", to: "alice@localhost" }, xml("vcard", { xmlns: VCARD4 })));
    assert.equal(errorCondition(deniedIq), "not-authorized");

    // Only vCard4 payloads go into the node.
    const bad = await publish(alice, VCARD4_NODE, xml("vCard", { xmlns: VCARD }), { id: "current" });
    assert.equal(pubsubCondition(bad), "invalid-payload");

    // IQ-based publication (earlier XEP-0292 versions) lands in the same node.
    const set = await alice.iq(xml("iq", { type: "set" }, vcard4("Alice by IQ")));
    assert.equal(set.attrs.type, "result");
    const ev2 = await bob.expect(event(VCARD4_NODE, "alice@localhost"));
    assert.equal(itemsOf(ev2)[0]?.getChild("vcard", VCARD4)?.getChild("fn")?.getChildText("text"), "Alice by IQ");
  });

  it("treats the user nickname (XEP-0172) as a plain PEP node: published, notified, sent on presence", async () => {
    const alice = await login("alice", { roster: true, presence: true });
    const bob = await login("bob", { roster: true, resource: "nick" });
    await publish(alice, NICK, xml("nick", { xmlns: NICK }, "Queen of Hearts"));
    // Bob (subscribed both ways since the previous test) comes online interested in nicks: he gets the last one.
    await sendCaps(bob, notify(NICK));
    const ev = await bob.expect(event(NICK, "alice@localhost"));
    assert.equal(itemsOf(ev)[0]?.getChildText("nick", NICK), "Queen of Hearts");
    await publish(alice, NICK, xml("nick", { xmlns: NICK }, "Alice"));
    const ev2 = await bob.expect(event(NICK, "alice@localhost"));
    assert.equal(itemsOf(ev2)[0]?.getChildText("nick", NICK), "Alice");
  });
});
