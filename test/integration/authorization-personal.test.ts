/**
 * Authorization of personal data: one test per rule, each "Mallory cannot …". Mallory is an ordinary logged-in
 * account of the same server; Alice is the victim; Bob is Alice's contact where a rule depends on subscriptions.
 * Every test checks both the refusal and that nothing leaked or changed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, rosterGet, rosterSet, subscribe, withBody } from "./im-fixtures.ts";
import { MAM2, mamQuery } from "./mam-fixtures.ts";
import {
  configForm,
  event,
  getItems,
  itemIds,
  notify,
  PUBSUB,
  PUBSUB_OWNER,
  publish,
  sendCaps,
} from "./pep-fixtures.ts";

const ALICE = "alice@localhost";
const BLOCKING = "urn:xmpp:blocking";
const PRIVATE = "jabber:iq:private";
const VCARD = "vcard-temp";
const VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0";
const PUSH = "urn:xmpp:push:0";
const CARBONS = "urn:xmpp:carbons:2";
const BOOKMARKS = "urn:xmpp:bookmarks:1";
const TUNE = "http://jabber.org/protocol/tune";

const tune = (title: string) => xml("tune", { xmlns: TUNE }, xml("title", null, title));

/** An iq from `c` to `to` with one payload. */
function ask(c: TestClient, type: "get" | "set", to: string, payload: XmlElement): Promise<XmlElement> {
  return c.iq(xml("iq", { type, to }, payload));
}

/** Asserts an error reply with this condition and returns it. */
function refused(reply: XmlElement, condition: string | string[]): XmlElement {
  assert.equal(reply.attrs.type, "error", `expected an error, got ${reply}`);
  const wanted = Array.isArray(condition) ? condition : [condition];
  assert.ok(wanted.includes(errorCondition(reply) ?? ""), `expected ${wanted.join("|")}, got ${reply}`);
  return reply;
}

describe("authorization: personal data", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string, opts: Parameters<typeof connectClient>[3] = {}) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { roster: true, ...opts });
    open.push(c);
    return c;
  };
  let alice: TestClient;
  let bob: TestClient;
  let mallory: TestClient;
  /** Mallory's session that became Alice's contact (the later tests). */
  let contact: TestClient;

  before(async () => {
    ts = await startTestServer({ users: ["alice", "bob", "mallory"].map((u) => [`${u}@localhost`, "pw"]) });
    alice = await login("alice", { presence: true, resource: "desk" });
    bob = await login("bob", { presence: true });
    mallory = await login("mallory", { presence: true });
    await befriend(alice, bob);
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts.stop();
  });

  // ---- RFC 6121 roster, XEP-0191 blocklist, XEP-0049 private XML ---------------------------------------

  it("Mallory cannot read Alice's roster (RFC 6121 §2.1.5)", async () => {
    const r = refused(await ask(mallory, "get", ALICE, xml("query", { xmlns: NS.roster })), "service-unavailable");
    assert.equal(r.getChild("query", NS.roster)?.getChildren("item").length ?? 0, 0);
  });

  it("Mallory cannot change Alice's roster (RFC 6121 §2.1.5)", async () => {
    const set = xml("query", { xmlns: NS.roster }, xml("item", { jid: "mallory@localhost", name: "friend" }));
    refused(await ask(mallory, "set", ALICE, set), "service-unavailable");
    const remove = xml("query", { xmlns: NS.roster }, xml("item", { jid: "bob@localhost", subscription: "remove" }));
    refused(await ask(mallory, "set", ALICE, remove), "service-unavailable");
    const items = (await rosterGet(alice)).getChild("query", NS.roster)?.getChildren("item") ?? [];
    assert.deepEqual(
      items.map((i) => i.attrs.jid),
      ["bob@localhost"],
    );
  });

  it("Mallory cannot read or change Alice's blocklist (XEP-0191 §3)", async () => {
    await alice.iq(
      xml("iq", { type: "set" }, xml("block", { xmlns: BLOCKING }, xml("item", { jid: "spam@example.net" }))),
    );
    refused(await ask(mallory, "get", ALICE, xml("blocklist", { xmlns: BLOCKING })), "service-unavailable");
    refused(await ask(mallory, "set", ALICE, xml("unblock", { xmlns: BLOCKING })), "service-unavailable");
    const block = xml("block", { xmlns: BLOCKING }, xml("item", { jid: "bob@localhost" }));
    refused(await ask(mallory, "set", ALICE, block), "service-unavailable");
    const list = await alice.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: BLOCKING })));
    assert.deepEqual(
      list
        .getChild("blocklist", BLOCKING)
        ?.getChildren("item")
        .map((i) => i.attrs.jid),
      ["spam@example.net"],
    );
  });

  it("Mallory cannot read or write Alice's private XML storage (XEP-0049 §3)", async () => {
    const doc = (text: string) => xml("notes", { xmlns: "urn:example:notes" }, text);
    const stored = await alice.iq(xml("iq", { type: "set" }, xml("query", { xmlns: PRIVATE }, doc("secret plans"))));
    assert.equal(stored.attrs.type, "result");
    const read = refused(await ask(mallory, "get", ALICE, xml("query", { xmlns: PRIVATE }, doc(""))), [
      "forbidden",
      "service-unavailable",
    ]);
    assert.ok(!read.toString().includes("secret plans"));
    refused(await ask(mallory, "set", ALICE, xml("query", { xmlns: PRIVATE }, doc("mallory was here"))), [
      "forbidden",
      "service-unavailable",
    ]);
    const mine = await alice.iq(xml("iq", { type: "get" }, xml("query", { xmlns: PRIVATE }, doc(""))));
    assert.equal(mine.getChild("query", PRIVATE)?.getChildText("notes", "urn:example:notes"), "secret plans");
  });

  // ---- vCards (XEP-0054, XEP-0292) ---------------------------------------------------------------------

  it("Mallory cannot set Alice's vcard-temp (XEP-0054 §3.2)", async () => {
    await alice.iq(xml("iq", { type: "set" }, xml("vCard", { xmlns: VCARD }, xml("FN", null, "Alice"))));
    refused(await ask(mallory, "set", ALICE, xml("vCard", { xmlns: VCARD }, xml("FN", null, "Mallory"))), "forbidden");
    const own = await alice.iq(xml("iq", { type: "get" }, xml("vCard", { xmlns: VCARD })));
    assert.equal(own.getChild("vCard", VCARD)?.getChildText("FN"), "Alice");
  });

  it("Mallory cannot set Alice's vCard4, nor read it without a presence subscription (XEP-0292)", async () => {
    const vcard = (fn: string) => xml("vcard", { xmlns: VCARD4 }, xml("fn", null, xml("text", null, fn)));
    assert.equal((await alice.iq(xml("iq", { type: "set" }, vcard("Alice A.")))).attrs.type, "result");
    refused(await ask(mallory, "set", ALICE, vcard("Mallory")), "forbidden");
    const read = await ask(mallory, "get", ALICE, xml("vcard", { xmlns: VCARD4 }));
    refused(read, ["forbidden", "not-authorized", "item-not-found"]);
    assert.ok(!read.toString().includes("Alice A."));
    const forBob = await ask(bob, "get", ALICE, xml("vcard", { xmlns: VCARD4 }));
    assert.ok(forBob.toString().includes("Alice A."), `a contact reads it: ${forBob}`);
  });

  // ---- MAM (XEP-0313) ----------------------------------------------------------------------------------

  it("Mallory cannot query Alice's message archive, its metadata or its preferences (XEP-0313 §9.1)", async () => {
    bob.send(xml("message", { to: ALICE, type: "chat" }, xml("body", null, "archived secret")));
    await alice.expect(withBody("archived secret"));
    const mine = await mamQuery(alice);
    assert.ok(mine.results.length > 0, "Alice's archive has the message");

    const out = await mamQuery(mallory, { to: ALICE });
    refused(out.iq, "forbidden");
    assert.equal(out.results.length, 0);
    for (const payload of [
      xml("query", { xmlns: MAM2 }),
      xml("metadata", { xmlns: MAM2 }),
      xml("prefs", { xmlns: MAM2 }),
    ]) {
      refused(await ask(mallory, "get", ALICE, payload), "forbidden");
    }
    refused(await ask(mallory, "set", ALICE, xml("prefs", { xmlns: MAM2, default: "never" })), "forbidden");
    const prefs = await alice.iq(xml("iq", { type: "get" }, xml("prefs", { xmlns: MAM2 })));
    assert.notEqual(prefs.getChild("prefs", MAM2)?.attrs.default, "never");
  });

  // ---- PEP (XEP-0163, XEP-0060) ------------------------------------------------------------------------

  it("Mallory cannot publish, retract, create, configure, delete or purge Alice's PEP nodes (XEP-0163 §4.1)", async () => {
    assert.equal((await publish(alice, TUNE, tune("Alice's song"), { id: "t1" })).attrs.type, "result");
    const attempts: [XmlElement, "get" | "set"][] = [
      [xml("pubsub", { xmlns: PUBSUB }, xml("publish", { node: TUNE }, xml("item", { id: "t1" }, tune("x")))), "set"],
      [xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: TUNE }, xml("item", { id: "t1" }))), "set"],
      [xml("pubsub", { xmlns: PUBSUB }, xml("create", { node: "urn:example:mallory" })), "set"],
      [xml("pubsub", { xmlns: PUBSUB_OWNER }, xml("configure", { node: TUNE })), "get"],
      [
        xml(
          "pubsub",
          { xmlns: PUBSUB_OWNER },
          xml("configure", { node: TUNE }, configForm({ "pubsub#access_model": "open" })),
        ),
        "set",
      ],
      [xml("pubsub", { xmlns: PUBSUB_OWNER }, xml("delete", { node: TUNE })), "set"],
      [xml("pubsub", { xmlns: PUBSUB_OWNER }, xml("purge", { node: TUNE })), "set"],
      [xml("pubsub", { xmlns: PUBSUB_OWNER }, xml("subscriptions", { node: TUNE })), "get"],
      [xml("pubsub", { xmlns: PUBSUB_OWNER }, xml("affiliations", { node: TUNE })), "get"],
      [
        xml(
          "pubsub",
          { xmlns: PUBSUB_OWNER },
          xml("affiliations", { node: TUNE }, xml("affiliation", { jid: "mallory@localhost", affiliation: "member" })),
        ),
        "set",
      ],
    ];
    for (const [payload, type] of attempts) {
      refused(await ask(mallory, type, ALICE, payload), "forbidden");
    }
    const items = await getItems(alice, TUNE);
    assert.deepEqual(itemIds(items), ["t1"]);
    assert.ok(items.toString().includes("Alice's song"));
    const disco = await ask(alice, "get", ALICE, xml("query", { xmlns: NS.discoItems }));
    assert.ok(!disco.toString().includes("urn:example:mallory"));
  });

  it("Mallory cannot read a presence-access PEP node without a subscription (XEP-0060 §4.5)", async () => {
    await publish(alice, TUNE, tune("only for contacts"), { id: "t2" });
    const r = refused(await getItems(mallory, TUNE, { to: ALICE }), ["not-authorized", "forbidden"]);
    assert.ok(!r.toString().includes("only for contacts"));
    refused(
      await ask(
        mallory,
        "set",
        ALICE,
        xml("pubsub", { xmlns: PUBSUB }, xml("subscribe", { node: TUNE, jid: mallory.jid })),
      ),
      ["not-authorized", "forbidden"],
    );
    const disco = await ask(mallory, "get", ALICE, xml("query", { xmlns: NS.discoItems }));
    assert.ok(!disco.toString().includes(TUNE), `node hidden from disco: ${disco}`);
    refused(await ask(mallory, "get", ALICE, xml("query", { xmlns: NS.discoItems, node: TUNE })), "item-not-found");
    refused(await ask(mallory, "get", ALICE, xml("query", { xmlns: NS.discoInfo, node: TUNE })), "item-not-found");
    assert.deepEqual(itemIds(await getItems(bob, TUNE, { to: ALICE })), ["t2"], "Bob, a contact, reads it");
  });

  it("Mallory cannot subscribe someone else to Alice's nodes (XEP-0060 §6.1.3.1)", async () => {
    const r = await ask(
      mallory,
      "set",
      ALICE,
      xml("pubsub", { xmlns: PUBSUB }, xml("subscribe", { node: TUNE, jid: bob.jid })),
    );
    refused(r, "bad-request");
  });

  // ---- mobile: push (XEP-0357), carbons (XEP-0280) -----------------------------------------------------

  it("Mallory cannot register or remove push notifications for Alice (XEP-0357 §5)", async () => {
    const enable = xml("enable", { xmlns: PUSH, jid: "push.example.net", node: "mallory-node" });
    refused(await ask(mallory, "set", ALICE, enable), ["forbidden", "not-allowed"]);
    const keys = await ts.server.core.storage.kv.keys("localhost", "alice", "push");
    assert.deepEqual(keys, []);
    refused(await ask(mallory, "set", ALICE, xml("disable", { xmlns: PUSH, jid: "push.example.net" })), [
      "forbidden",
      "not-allowed",
    ]);
  });

  it("Mallory cannot enable carbons for Alice's session (XEP-0280 §4)", async () => {
    refused(await ask(mallory, "set", ALICE, xml("enable", { xmlns: CARBONS })), ["forbidden", "not-allowed"]);
    // Sent to Alice's full JID, it reaches her client (which did not ask) and changes nothing on the server.
    mallory.send(xml("iq", { type: "set", to: alice.jid, id: "carbons-hijack" }, xml("enable", { xmlns: CARBONS })));
    const relayed = await alice.expect((el) => el.name === "iq" && el.attrs.id === "carbons-hijack");
    assert.equal(relayed.attrs.from, mallory.jid);
    alice.send(
      xml(
        "iq",
        { type: "error", id: "carbons-hijack", to: mallory.jid },
        xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS.stanzaErrors })),
      ),
    );
    const phone = await login("alice", { presence: true, resource: "phone" });
    bob.send(xml("message", { to: phone.jid, type: "chat" }, xml("body", null, "for the phone only")));
    await phone.expect(withBody("for the phone only"));
    await alice.nothing(300, (el) => el.getChild("received", CARBONS) !== undefined);
  });

  // ---- XEP-0012 last activity, XEP-0077 account management ---------------------------------------------

  it("Mallory cannot learn Alice's last activity without a presence subscription (XEP-0012 §4)", async () => {
    const r = refused(await ask(mallory, "get", ALICE, xml("query", { xmlns: NS.last })), "forbidden");
    assert.equal(r.getChild("query", NS.last), undefined);
  });

  it("Mallory cannot change Alice's password or remove her account (XEP-0077 §3.2, §3.3)", async () => {
    const change = xml("query", { xmlns: NS.register }, xml("username", null, "alice"), xml("password", null, "owned"));
    refused(await ask(mallory, "set", ALICE, change), "not-allowed");
    refused(await ask(mallory, "set", ALICE, xml("query", { xmlns: NS.register }, xml("remove"))), "not-allowed");
    // Through the host, the account changed would be Mallory's own: the username must match it.
    refused(await ask(mallory, "set", "localhost", change), "bad-request");
    assert.ok(await ts.server.core.storage.accounts.exists("localhost", "alice"));
    const again = await connectClient(ts, ALICE, "pw", { resource: "check" });
    await again.close();
  });

  // ---- from here on Mallory is Alice's contact (subscription to Alice's presence) ----------------------

  it("Mallory cannot read a whitelist node even as Alice's contact (XEP-0060 §4.5)", async () => {
    contact = await login("mallory", { presence: true, resource: "contact" });
    await subscribe(contact, alice);
    const mal = contact;
    const node = "urn:example:diary";
    const p = await publish(alice, node, xml("entry", { xmlns: node }, "dear diary"), {
      options: { "pubsub#access_model": "whitelist" },
    });
    assert.equal(p.attrs.type, "result");
    // XEP-0060 §6.5.9.3: not-allowed with <closed-node/>.
    const r = refused(await getItems(mal, node, { to: ALICE }), "not-allowed");
    assert.ok(r.toString().includes("closed-node") && !r.toString().includes("dear diary"));
  });

  it("Mallory cannot read Alice's roster-group node from outside the allowed group (XEP-0060 §4.5)", async () => {
    await rosterSet(alice, "bob@localhost", { groups: ["Family"] });
    const node = "urn:example:family";
    const opts = {
      "pubsub#access_model": "roster",
      "pubsub#roster_groups_allowed": "Family",
    };
    assert.equal(
      (await publish(alice, node, xml("news", { xmlns: node }, "family news"), { options: opts })).attrs.type,
      "result",
    );
    refused(await getItems(mallory, node, { to: ALICE }), ["not-authorized", "forbidden"]);
    assert.equal(itemIds(await getItems(bob, node, { to: ALICE })).length, 1);
  });

  // ---- bookmarks (XEP-0402, XEP-0048): always private --------------------------------------------------

  it("Mallory cannot read Alice's bookmarks, even as a contact with +notify (XEP-0402 §5)", async () => {
    const mal = contact;
    // Mallory's client asks for bookmark notifications and tells Alice so with directed presence (XEP-0163 §4.3).
    const caps = await sendCaps(mal, notify(BOOKMARKS, "storage:bookmarks", TUNE));
    caps.attrs.to = ALICE;
    mal.send(caps);
    await publish(alice, TUNE, tune("notified to contacts"), { id: "t3" });
    await mal.expect(event(TUNE, ALICE));
    const conf = xml(
      "conference",
      { xmlns: BOOKMARKS, name: "Secret room", autojoin: "true" },
      xml("password", null, "hunter2"),
    );
    // A client that forgets publish-options still gets a private node.
    const p = await publish(alice, BOOKMARKS, conf, { id: "secret@conference.localhost" });
    assert.equal(p.attrs.type, "result", `${p}`);
    await mal.nothing(300, event(BOOKMARKS));
    for (const node of [BOOKMARKS, "storage:bookmarks"]) {
      const r = await getItems(mal, node, { to: ALICE });
      assert.equal(r.attrs.type, "error", `${node} must not be readable: ${r}`);
      assert.ok(!r.toString().includes("hunter2"));
    }
    const legacy = await ask(
      mal,
      "get",
      ALICE,
      xml("query", { xmlns: PRIVATE }, xml("storage", { xmlns: "storage:bookmarks" })),
    );
    assert.equal(legacy.attrs.type, "error");
    assert.ok(!legacy.toString().includes("hunter2"));
    const disco = await ask(mal, "get", ALICE, xml("query", { xmlns: NS.discoItems }));
    assert.ok(!disco.toString().includes("bookmarks"), `${disco}`);
  });
});
