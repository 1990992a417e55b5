import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";
import { serverSuite } from "../helpers/suite.ts";
import { befriend, errorCondition } from "./im-fixtures.ts";
import {
  event,
  fieldValue,
  getItems,
  itemIds,
  itemsOf,
  notify,
  owner,
  PUBSUB,
  PUBSUB_EVENT,
  PUBSUB_OWNER,
  publish,
  pubsubCondition,
  sendCaps,
} from "./pep-fixtures.ts";

const BM2 = "urn:xmpp:bookmarks:1";
const LEGACY = "storage:bookmarks";
const PRIVATE = "jabber:iq:private";
/** What XEP-0402 clients send with every bookmark. */
const BM2_OPTIONS = {
  "pubsub#persist_items": "true",
  "pubsub#max_items": "max",
  "pubsub#send_last_published_item": "never",
  "pubsub#access_model": "whitelist",
};

function conference(name: string, opts: { autojoin?: boolean; nick?: string; password?: string } = {}): XmlElement {
  return xml(
    "conference",
    { xmlns: BM2, name, autojoin: opts.autojoin ? "true" : undefined },
    opts.nick ? xml("nick", null, opts.nick) : undefined,
    opts.password ? xml("password", null, opts.password) : undefined,
  );
}

async function privateBookmarks(c: TestClient): Promise<XmlElement> {
  const r = await c.iq(xml("iq", { type: "get" }, xml("query", { xmlns: PRIVATE }, xml("storage", { xmlns: LEGACY }))));
  const storage = r.getChild("query", PRIVATE)?.getChild("storage", LEGACY);
  assert.ok(storage, r.toString());
  return storage;
}

function setPrivateBookmarks(c: TestClient, ...children: XmlElement[]): Promise<XmlElement> {
  return c.iq(
    xml("iq", { type: "set" }, xml("query", { xmlns: PRIVATE }, xml("storage", { xmlns: LEGACY }, ...children))),
  );
}

const legacyConference = (jid: string, attrs: Record<string, string> = {}, ...children: XmlElement[]) =>
  xml("conference", { jid, ...attrs }, ...children);

describe("bookmarks (XEP-0402 with XEP-0048 compatibility)", () => {
  const suite = serverSuite(["alice", "bob", "carol", "dave"]);
  const login = suite.login;

  it("advertises #compat and #compat-pep on the account", async () => {
    const alice = await login("alice");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    const features = info
      .getChild("query")
      ?.getChildren("feature")
      .map((f) => f.attrs.var);
    assert.ok(features?.includes(`${BM2}#compat`));
    assert.ok(features?.includes(`${BM2}#compat-pep`));
  });

  it("shows XEP-0402 bookmarks to a private-storage client, and its whole-list writes as item changes", async () => {
    // Alice's phone speaks XEP-0402 and wants notifications; her old desktop client uses private storage.
    const phone = await login("alice", { resource: "phone" });
    await sendCaps(phone, notify(BM2));
    const desktop = await login("alice", { resource: "desktop", presence: true });

    const r = await publish(phone, BM2, conference("The Play", { autojoin: true, nick: "JC" }), {
      id: "theplay@conference.localhost",
      options: BM2_OPTIONS,
    });
    assert.equal(r.attrs.type, "result", r.toString());
    await phone.expect(event(BM2)); // own notification

    let storage = await privateBookmarks(desktop);
    const confs = storage.getChildren("conference");
    assert.equal(confs.length, 1);
    assert.equal(confs[0]?.attrs.jid, "theplay@conference.localhost");
    assert.equal(confs[0]?.attrs.name, "The Play");
    assert.equal(confs[0]?.attrs.autojoin, "true");
    assert.equal(confs[0]?.getChildText("nick"), "JC");

    // The desktop writes the list back with one room added, one changed... and a URL bookmark.
    const set = await setPrivateBookmarks(
      desktop,
      legacyConference("theplay@conference.localhost", { name: "The Play", autojoin: "1" }, xml("nick", null, "JC")),
      legacyConference("orchard@conference.localhost", { name: "Orchard" }, xml("password", null, "secret")),
      xml("url", { name: "Shakespeare", url: "https://shakespeare.lit/" }),
    );
    assert.equal(set.attrs.type, "result");
    // Only the new room is published (XEP-0402 §5.3: unchanged items are not notified).
    const added = await phone.expect(event(BM2));
    assert.deepEqual(itemIds(added), ["orchard@conference.localhost"]);
    assert.equal(itemsOf(added)[0]?.getChild("conference", BM2)?.getChildText("password"), "secret");
    await phone.nothing(300, event(BM2));

    const items = await getItems(phone, BM2);
    assert.deepEqual(itemIds(items).sort(), ["orchard@conference.localhost", "theplay@conference.localhost"]);

    // Removing a room from the list retracts its item.
    await setPrivateBookmarks(
      desktop,
      legacyConference("orchard@conference.localhost", { name: "Orchard" }, xml("password", null, "secret")),
      xml("url", { name: "Shakespeare", url: "https://shakespeare.lit/" }),
    );
    const retracted = await phone.expect(event(BM2));
    assert.equal(
      retracted.getChild("event", PUBSUB_EVENT)?.getChild("items")?.getChild("retract")?.attrs.id,
      "theplay@conference.localhost",
    );
    assert.deepEqual(itemIds(await getItems(phone, BM2)), ["orchard@conference.localhost"]);

    // The phone retracts the other one; the desktop sees an empty list, with its URL kept.
    await phone.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "pubsub",
          { xmlns: PUBSUB },
          xml("retract", { node: BM2, notify: "true" }, xml("item", { id: "orchard@conference.localhost" })),
        ),
      ),
    );
    storage = await privateBookmarks(desktop);
    assert.equal(storage.getChildren("conference").length, 0);
    assert.equal(storage.getChild("url")?.attrs.url, "https://shakespeare.lit/");
  });

  it("keeps the XEP-0048 PEP node in sync both ways (#compat-pep)", async () => {
    const modern = await login("bob", { resource: "modern" });
    const legacy = await login("bob", { resource: "legacy" });
    await sendCaps(legacy, notify(LEGACY));

    await publish(modern, BM2, conference("Lounge", { nick: "bob" }), {
      id: "lounge@conference.localhost",
      options: BM2_OPTIONS,
    });
    const pushed = await legacy.expect(event(LEGACY));
    const storage = itemsOf(pushed)[0]?.getChild("storage", LEGACY);
    assert.equal(storage?.getChild("conference")?.attrs.jid, "lounge@conference.localhost");
    assert.equal(storage?.getChild("conference")?.getChildText("nick"), "bob");

    // The legacy client publishes a whole new list to storage:bookmarks (XEP-0048 1.1).
    const r = await publish(
      legacy,
      LEGACY,
      xml(
        "storage",
        { xmlns: LEGACY },
        legacyConference("lounge@conference.localhost", { name: "Lounge" }, xml("nick", null, "bob")),
        legacyConference("kitchen@conference.localhost", { name: "Kitchen", autojoin: "true" }),
      ),
      { id: "current", options: { "pubsub#persist_items": "true", "pubsub#access_model": "whitelist" } },
    );
    assert.equal(r.attrs.type, "result", r.toString());
    const items = await getItems(modern, BM2);
    assert.deepEqual(itemIds(items).sort(), ["kitchen@conference.localhost", "lounge@conference.localhost"]);
    const kitchen = itemsOf(items).find((i) => i.attrs.id === "kitchen@conference.localhost");
    assert.equal(kitchen?.getChild("conference", BM2)?.attrs.autojoin, "true");
    // The private-storage view agrees.
    assert.equal((await privateBookmarks(modern)).getChildren("conference").length, 2);
  });

  it("keeps bookmarks private: whitelist by default, even without publish-options", async () => {
    const carol = await login("carol", { presence: true });
    const dave = await login("dave", { presence: true });
    await carol.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    await dave.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    await befriend(carol, dave);
    // A careless client publishes without options: the node is still private.
    await publish(carol, BM2, conference("Secret room"), { id: "secret@conference.localhost" });
    const peek = await getItems(dave, BM2, { to: "carol@localhost" });
    assert.equal(errorCondition(peek), "not-allowed");
    assert.equal(pubsubCondition(peek), "closed-node");
    const cfg = await owner(carol, "get", xml("configure", { node: BM2 }));
    const form = cfg.getChild("pubsub", PUBSUB_OWNER)?.getChild("configure")?.getChild("x", NS.dataForms);
    assert.equal(fieldValue(form, "pubsub#access_model"), "whitelist");
    assert.equal(fieldValue(form, "pubsub#max_items"), "max");
    // A bookmark must be a conference keyed by a room JID.
    const bad = await publish(carol, BM2, xml("note", { xmlns: "urn:example" }), { id: "x@conference.localhost" });
    assert.equal(pubsubCondition(bad), "invalid-payload");
    const badId = await publish(carol, BM2, conference("No JID"), { id: "not a jid@@" });
    assert.equal(pubsubCondition(badId), "invalid-payload");
  });

  it("keeps bookmarks across a restart", async () => {
    const dave = await login("dave");
    await setPrivateBookmarks(dave, legacyConference("attic@conference.localhost", { name: "Attic" }));
    await dave.close();
    await suite.restart();
    const again = await login("dave");
    assert.deepEqual(itemIds(await getItems(again, BM2)), ["attic@conference.localhost"]);
    assert.equal((await privateBookmarks(again)).getChild("conference")?.attrs.name, "Attic");
  });
});
