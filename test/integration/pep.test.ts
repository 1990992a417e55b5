import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";
import { serverSuite } from "../helpers/suite.ts";
import { befriend, errorCondition, subscribe } from "./im-fixtures.ts";
import {
  configForm,
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

const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal", "ivy", "jo", "kim", "lee", "nan", "oz"];
const TUNE = "http://jabber.org/protocol/tune";
const GEOLOC = "http://jabber.org/protocol/geoloc";
const MOOD = "http://jabber.org/protocol/mood";
const DEVICELIST = "eu.siacs.conversations.axolotl.devicelist";

const tune = (title: string) => xml("tune", { xmlns: TUNE }, xml("title", null, title));

describe("PEP (XEP-0163 on XEP-0060, XEP-0223 publish-options)", () => {
  const suite = serverSuite(USERS, { login: { roster: true } });
  const login = suite.login;
  /** Logs in with caps that say the client wants notifications for `nodes`, and sends that presence. */
  const loginWithCaps = async (user: string, nodes: string[], resource?: string) => {
    const c = await login(user, { resource });
    await sendCaps(c, notify(...nodes));
    return c;
  };

  it("advertises the pep identity and the pubsub features on the account", async () => {
    const alice = await login("alice");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    const query = info.getChild("query", NS.discoInfo);
    const identities = query?.getChildren("identity").map((i) => `${i.attrs.category}/${i.attrs.type}`);
    assert.deepEqual(identities?.sort(), ["account/registered", "pubsub/pep"]);
    const features = new Set(query?.getChildren("feature").map((f) => f.attrs.var));
    for (const f of [
      "publish",
      "publish-options",
      "auto-create",
      "persistent-items",
      "retrieve-items",
      "multi-items",
    ]) {
      assert.ok(features.has(`${PUBSUB}#${f}`), f);
    }
    assert.ok(features.has(`${PUBSUB}#auto-subscribe`) && features.has(`${PUBSUB}#filtered-notifications`));
  });

  it("auto-creates a node on first publish, returns the item id, and serves items to owner and contacts", async () => {
    const alice = await login("alice", { presence: true });
    const bob = await login("bob", { presence: true });
    await befriend(alice, bob);
    const carol = await login("carol");

    const r1 = await publish(alice, TUNE, tune("One"), { id: "t1" });
    assert.equal(r1.attrs.type, "result");
    assert.equal(r1.getChild("pubsub", PUBSUB)?.getChild("publish")?.getChild("item")?.attrs.id, "t1");
    // Without an id the service makes one up and says which.
    const r2 = await publish(alice, TUNE, tune("Two"));
    const generated = r2.getChild("pubsub", PUBSUB)?.getChild("publish")?.getChild("item")?.attrs.id;
    assert.ok(generated && generated.length >= 8);

    // Default max_items is 1 (XEP-0163 §4.4): only the last one is kept.
    const mine = await getItems(alice, TUNE);
    assert.deepEqual(itemIds(mine), [generated]);
    assert.equal(itemsOf(mine)[0]?.getChild("tune", TUNE)?.getChildText("title"), "Two");

    // Bob has a presence subscription (access model "presence"); Carol does not.
    const forBob = await getItems(bob, TUNE, { to: "alice@localhost" });
    assert.deepEqual(itemIds(forBob), [generated]);
    const forCarol = await getItems(carol, TUNE, { to: "alice@localhost" });
    assert.equal(errorCondition(forCarol), "not-authorized");
    assert.equal(pubsubCondition(forCarol), "presence-subscription-required");

    // Only the owner publishes (XEP-0163: publish model "publishers").
    const intrusion = await publish(bob, TUNE, tune("Bob's"), { to: "alice@localhost" });
    assert.equal(errorCondition(intrusion), "forbidden");

    // Unknown node; unknown account.
    assert.equal(errorCondition(await getItems(bob, MOOD, { to: "alice@localhost" })), "item-not-found");
    assert.equal(errorCondition(await getItems(bob, TUNE, { to: "nobody@localhost" })), "service-unavailable");
  });

  it("keeps several items with max_items, trims the oldest, and answers max_items and item ids", async () => {
    const dave = await login("dave");
    for (const id of ["a", "b", "c", "d"]) {
      const r = await publish(dave, GEOLOC, xml("geoloc", { xmlns: GEOLOC }, xml("text", null, id)), {
        id,
        options: { "pubsub#max_items": "3" },
      });
      assert.equal(r.attrs.type, "result", r.toString());
    }
    assert.deepEqual(itemIds(await getItems(dave, GEOLOC)), ["b", "c", "d"]);
    assert.deepEqual(itemIds(await getItems(dave, GEOLOC, { max: 1 })), ["d"]);
    assert.deepEqual(itemIds(await getItems(dave, GEOLOC, { ids: ["b", "zz"] })), ["b"]);
    // Re-publishing an id replaces that item and makes it the newest.
    await publish(dave, GEOLOC, xml("geoloc", { xmlns: GEOLOC }, xml("text", null, "b2")), {
      id: "b",
      options: { "pubsub#max_items": "3" },
    });
    const all = await getItems(dave, GEOLOC);
    assert.deepEqual(itemIds(all), ["c", "d", "b"]);
    assert.equal(itemsOf(all)[2]?.getChild("geoloc", GEOLOC)?.getChildText("text"), "b2");
  });

  it("refuses publish-options that do not match an existing node with conflict + precondition-not-met", async () => {
    const erin = await login("erin");
    assert.equal((await publish(erin, MOOD, xml("mood", { xmlns: MOOD }))).attrs.type, "result");
    const r = await publish(erin, MOOD, xml("mood", { xmlns: MOOD }), { options: { "pubsub#access_model": "open" } });
    assert.equal(errorCondition(r), "conflict");
    assert.equal(pubsubCondition(r), "precondition-not-met");
    // Matching options (booleans in either spelling) are fine.
    const ok = await publish(erin, MOOD, xml("mood", { xmlns: MOOD }), {
      options: { "pubsub#access_model": "presence", "pubsub#persist_items": "true", "pubsub#deliver_payloads": "1" },
    });
    assert.equal(ok.attrs.type, "result");
    // An option the service does not know is never silently ignored.
    const unknown = await publish(erin, MOOD, xml("mood", { xmlns: MOOD }), { options: { "pubsub#bogus": "1" } });
    assert.equal(pubsubCondition(unknown), "precondition-not-met");
    // The client then reconfigures the node (the XEP-0223 flow) and publishes again.
    const cfg = await owner(
      erin,
      "set",
      xml("configure", { node: MOOD }, configForm({ "pubsub#access_model": "open" })),
    );
    assert.equal(cfg.attrs.type, "result");
    const again = await publish(erin, MOOD, xml("mood", { xmlns: MOOD }), {
      options: { "pubsub#access_model": "open" },
    });
    assert.equal(again.attrs.type, "result");
  });

  it("notifies the owner's resources and contacts whose clients want the node (+notify), and no one else", async () => {
    const frank = await loginWithCaps("frank", [TUNE], "desktop");
    const frankPhone = await login("frank", { resource: "phone", presence: true }); // no caps: no +notify
    const gina = await loginWithCaps("gina", [TUNE]);
    const hal = await loginWithCaps("hal", [GEOLOC]); // contact, but not interested in tunes
    const ivy = await loginWithCaps("ivy", [TUNE]); // interested, but no subscription
    await frank.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    await befriend(frank, gina);
    await befriend(frank, hal);

    await publish(frank, TUNE, tune("Notify me"), { id: "n1" });
    for (const c of [frank, gina]) {
      const ev = await c.expect(event(TUNE, "frank@localhost"));
      assert.equal(ev.attrs.type, "headline");
      assert.deepEqual(itemIds(ev), ["n1"]);
      assert.equal(itemsOf(ev)[0]?.getChild("tune", TUNE)?.getChildText("title"), "Notify me");
    }
    await frankPhone.nothing(300, event(TUNE));
    await hal.nothing(0, event(TUNE));
    await ivy.nothing(0, event(TUNE));

    // Retraction with notify (XEP-0060 §7.2.2.1).
    const retract = await frank.iq(
      xml(
        "iq",
        { type: "set" },
        xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: TUNE, notify: "true" }, xml("item", { id: "n1" }))),
      ),
    );
    assert.equal(retract.attrs.type, "result");
    const gone = await gina.expect(event(TUNE));
    assert.equal(gone.getChild("event", PUBSUB_EVENT)?.getChild("items")?.getChild("retract")?.attrs.id, "n1");
    // Retracting it again: no such item.
    const again = await frank.iq(
      xml(
        "iq",
        { type: "set" },
        xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: TUNE }, xml("item", { id: "n1" }))),
      ),
    );
    assert.equal(errorCondition(again), "item-not-found");
  });

  it("does not trust caps whose disco#info answer does not match their hash (XEP-0115 §5.4)", async () => {
    const nan = await login("nan", { presence: true });
    const oz = await login("oz", { presence: true });
    await befriend(nan, oz);
    oz.send(
      xml(
        "presence",
        null,
        xml("c", { xmlns: NS.caps, hash: "sha-1", node: "https://evil.test", ver: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" }),
      ),
    );
    const query = await oz.expect((el) => el.name === "iq" && el.getChild("query", NS.discoInfo) !== undefined);
    oz.send(
      xml(
        "iq",
        { type: "result", id: query.attrs.id, to: query.attrs.from },
        xml(
          "query",
          { xmlns: NS.discoInfo, node: query.getChild("query", NS.discoInfo)?.attrs.node },
          xml("identity", { category: "client", type: "pc" }),
          xml("feature", { var: `${TUNE}+notify` }),
        ),
      ),
    );
    await oz.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    await publish(nan, TUNE, tune("Not for liars"));
    await oz.nothing(300, event(TUNE));
  });

  it("sends the last item to a contact's resource when it becomes available, with the publication time", async () => {
    const jo = await login("jo", { presence: true });
    let kim = await login("kim", { presence: true });
    await befriend(jo, kim);
    await publish(jo, TUNE, tune("While you were away"), { id: "last" });
    await kim.close();

    kim = await login("kim");
    const caps = await sendCaps(kim, notify(TUNE));
    const ev = await kim.expect(event(TUNE, "jo@localhost"));
    assert.deepEqual(itemIds(ev), ["last"]);
    assert.ok(ev.getChild("delay", NS.delay)?.attrs.stamp, "the last item says when it was published");
    // A presence update without a caps change does not send it again.
    kim.send(caps.clone().append(xml("show", null, "away")));
    await kim.nothing(400, event(TUNE));

    // Another client with the same caps is not asked again (cache by ver), and still gets the last item.
    const kim2 = await login("kim", { resource: "second" });
    kim2.send(caps.clone());
    const ev2 = await kim2.expect(event(TUNE, "jo@localhost"));
    assert.deepEqual(itemIds(ev2), ["last"]);
    await kim2.nothing(100, (el) => el.name === "iq" && el.getChild("query", NS.discoInfo) !== undefined);
  });

  it("applies access models: open for anyone, whitelist for the owner and members only, outcasts never", async () => {
    const lee = await login("lee");
    const carol = await login("carol");
    const r = await publish(
      lee,
      DEVICELIST,
      xml("list", { xmlns: "eu.siacs.conversations.axolotl" }, xml("device", { id: "42" })),
      {
        id: "current",
        options: { "pubsub#access_model": "open" },
      },
    );
    assert.equal(r.attrs.type, "result");
    // OMEMO: a stranger fetches the device list and a bundle (both open).
    const list = await getItems(carol, DEVICELIST, { to: "lee@localhost" });
    assert.equal(itemsOf(list)[0]?.getChild("list")?.getChild("device")?.attrs.id, "42");
    const bundleNode = "eu.siacs.conversations.axolotl.bundles:42";
    const bundle = xml(
      "bundle",
      { xmlns: "eu.siacs.conversations.axolotl" },
      xml("signedPreKeyPublic", { signedPreKeyId: "1" }, "BQ=="),
      xml("identityKey", null, "BR=="),
    );
    await publish(lee, bundleNode, bundle, { id: "current", options: { "pubsub#access_model": "open" } });
    const got = await getItems(carol, bundleNode, { to: "lee@localhost" });
    assert.equal(itemsOf(got)[0]?.getChild("bundle")?.getChildText("identityKey"), "BR==");

    // Whitelist: closed to others...
    await publish(lee, "urn:example:secret", xml("secret", { xmlns: "urn:example" }), {
      options: { "pubsub#access_model": "whitelist" },
    });
    const closed = await getItems(carol, "urn:example:secret", { to: "lee@localhost" });
    assert.equal(errorCondition(closed), "not-allowed");
    assert.equal(pubsubCondition(closed), "closed-node");
    // ... until the owner makes Carol a member.
    const aff = await owner(
      lee,
      "set",
      xml(
        "affiliations",
        { node: "urn:example:secret" },
        xml("affiliation", { jid: "carol@localhost", affiliation: "member" }),
      ),
    );
    assert.equal(aff.attrs.type, "result");
    assert.equal(itemIds(await getItems(carol, "urn:example:secret", { to: "lee@localhost" })).length, 1);
    const affs = await owner(lee, "get", xml("affiliations", { node: "urn:example:secret" }));
    const listed = affs.getChild("pubsub", PUBSUB_OWNER)?.getChild("affiliations")?.getChildren("affiliation");
    assert.deepEqual(
      listed?.map((a) => `${a.attrs.jid}=${a.attrs.affiliation}`),
      ["lee@localhost=owner", "carol@localhost=member"],
    );
    // Outcasts are refused even on an open node.
    await owner(
      lee,
      "set",
      xml("affiliations", { node: DEVICELIST }, xml("affiliation", { jid: "carol@localhost", affiliation: "outcast" })),
    );
    assert.equal(errorCondition(await getItems(carol, DEVICELIST, { to: "lee@localhost" })), "forbidden");

    // disco#items lists only the nodes the requester may see.
    const disco = (c: TestClient) =>
      c.iq(xml("iq", { type: "get", to: "lee@localhost" }, xml("query", { xmlns: NS.discoItems })));
    const nodesFor = (el: XmlElement) =>
      el
        .getChild("query", NS.discoItems)
        ?.getChildren("item")
        .map((i) => i.attrs.node);
    assert.deepEqual(nodesFor(await disco(lee)), [bundleNode, DEVICELIST, "urn:example:secret"]);
    assert.deepEqual(nodesFor(await disco(carol)), [bundleNode, "urn:example:secret"]);
  });

  it("lets a stranger subscribe explicitly to an open node and notifies it without caps", async () => {
    const hal = await login("hal");
    const dave = await login("dave", { presence: true });
    await publish(hal, "urn:example:news", xml("news", { xmlns: "urn:example" }, "first"), {
      id: "1",
      options: { "pubsub#access_model": "open" },
    });
    const sub = await dave.iq(
      xml(
        "iq",
        { type: "set", to: "hal@localhost" },
        xml("pubsub", { xmlns: PUBSUB }, xml("subscribe", { node: "urn:example:news", jid: "dave@localhost" })),
      ),
    );
    assert.equal(sub.getChild("pubsub", PUBSUB)?.getChild("subscription")?.attrs.subscription, "subscribed");
    // The last item comes on subscription (send_last_published_item defaults to on_sub_and_presence).
    await dave.expect(event("urn:example:news", "hal@localhost"));
    await publish(hal, "urn:example:news", xml("news", { xmlns: "urn:example" }, "second"), { id: "2" });
    const ev = await dave.expect(event("urn:example:news", "hal@localhost"));
    assert.deepEqual(itemIds(ev), ["2"]);
    // Someone else's JID cannot be subscribed.
    const bad = await dave.iq(
      xml(
        "iq",
        { type: "set", to: "hal@localhost" },
        xml("pubsub", { xmlns: PUBSUB }, xml("subscribe", { node: "urn:example:news", jid: "carol@localhost" })),
      ),
    );
    assert.equal(pubsubCondition(bad), "invalid-jid");
    const unsub = await dave.iq(
      xml(
        "iq",
        { type: "set", to: "hal@localhost" },
        xml("pubsub", { xmlns: PUBSUB }, xml("unsubscribe", { node: "urn:example:news", jid: "dave@localhost" })),
      ),
    );
    assert.equal(unsub.attrs.type, "result");
    await publish(hal, "urn:example:news", xml("news", { xmlns: "urn:example" }, "third"), { id: "3" });
    await dave.nothing(300, event("urn:example:news"));
  });

  it("ends an explicit subscription whose notifications bounce, without bothering the owner", async () => {
    const hal = await login("hal", { presence: true });
    await publish(hal, "urn:example:bounce", xml("b", { xmlns: "urn:example" }), {
      options: { "pubsub#access_model": "open" },
    });
    // A subscriber on a server we cannot reach (no federation here): every notification bounces.
    const store = suite.ts.server.core.storage.pubsub;
    const node = await store.getNode("hal@localhost", "urn:example:bounce");
    assert.ok(node);
    await store.updateNode("hal@localhost", { ...node, subscriptions: { "ghost@far.example": "subscribed" } });
    await publish(hal, "urn:example:bounce", xml("b", { xmlns: "urn:example" }));
    await hal.nothing(300, (el) => el.name === "message");
    const subs = await owner(hal, "get", xml("subscriptions", { node: "urn:example:bounce" }));
    assert.deepEqual(subs.getChild("pubsub", PUBSUB_OWNER)?.getChild("subscriptions")?.getChildren("subscription"), []);
  });

  it("configures, purges and deletes nodes (owner only), with notifications", async () => {
    const ivy = await loginWithCaps("ivy", ["urn:example:cfg"]);
    await publish(ivy, "urn:example:cfg", xml("v", { xmlns: "urn:example" }, "1"), { id: "1" });
    await ivy.expect(event("urn:example:cfg"));

    const form = await owner(ivy, "get", xml("configure", { node: "urn:example:cfg" }));
    const x = form.getChild("pubsub", PUBSUB_OWNER)?.getChild("configure")?.getChild("x", NS.dataForms);
    assert.equal(fieldValue(x, "pubsub#access_model"), "presence");
    assert.equal(fieldValue(x, "pubsub#max_items"), "1");

    // "max" is accepted (config-node-max) and keeps many items.
    const set = await owner(
      ivy,
      "set",
      xml("configure", { node: "urn:example:cfg" }, configForm({ "pubsub#max_items": "max" })),
    );
    assert.equal(set.attrs.type, "result");
    for (const id of ["2", "3"]) await publish(ivy, "urn:example:cfg", xml("v", { xmlns: "urn:example" }, id), { id });
    assert.deepEqual(itemIds(await getItems(ivy, "urn:example:cfg")), ["1", "2", "3"]);
    // Lowering the maximum drops the oldest items at once.
    await owner(ivy, "set", xml("configure", { node: "urn:example:cfg" }, configForm({ "pubsub#max_items": "2" })));
    assert.deepEqual(itemIds(await getItems(ivy, "urn:example:cfg")), ["2", "3"]);
    const bad = await owner(
      ivy,
      "set",
      xml("configure", { node: "urn:example:cfg" }, configForm({ "pubsub#access_model": "authorize" })),
    );
    assert.equal(errorCondition(bad), "not-acceptable");

    const purge = await owner(ivy, "set", xml("purge", { node: "urn:example:cfg" }));
    assert.equal(purge.attrs.type, "result");
    await ivy.expect((el) => el.getChild("event", PUBSUB_EVENT)?.getChild("purge")?.attrs.node === "urn:example:cfg");
    assert.deepEqual(itemIds(await getItems(ivy, "urn:example:cfg")), []);

    const del = await owner(ivy, "set", xml("delete", { node: "urn:example:cfg" }));
    assert.equal(del.attrs.type, "result");
    await ivy.expect((el) => el.getChild("event", PUBSUB_EVENT)?.getChild("delete")?.attrs.node === "urn:example:cfg");
    assert.equal(errorCondition(await getItems(ivy, "urn:example:cfg")), "item-not-found");
    assert.equal(errorCondition(await owner(ivy, "set", xml("delete", { node: "urn:example:cfg" }))), "item-not-found");

    // Create with a configuration, then a second create conflicts.
    const create = await ivy.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "pubsub",
          { xmlns: PUBSUB },
          xml("create", { node: "urn:example:made" }),
          xml("configure", null, configForm({ "pubsub#access_model": "whitelist" })),
        ),
      ),
    );
    assert.equal(create.attrs.type, "result");
    const again = await ivy.iq(
      xml("iq", { type: "set" }, xml("pubsub", { xmlns: PUBSUB }, xml("create", { node: "urn:example:made" }))),
    );
    assert.equal(errorCondition(again), "conflict");
    const made = await owner(ivy, "get", xml("configure", { node: "urn:example:made" }));
    const mx = made.getChild("pubsub", PUBSUB_OWNER)?.getChild("configure")?.getChild("x", NS.dataForms);
    assert.equal(fieldValue(mx, "pubsub#access_model"), "whitelist");
  });

  it("rejects malformed publishes with the XEP-0060 conditions", async () => {
    const gina = await login("gina");
    const noItem = await gina.iq(
      xml("iq", { type: "set" }, xml("pubsub", { xmlns: PUBSUB }, xml("publish", { node: "urn:example:x" }))),
    );
    assert.equal(pubsubCondition(noItem), "item-required");
    const noPayload = await gina.iq(
      xml(
        "iq",
        { type: "set" },
        xml("pubsub", { xmlns: PUBSUB }, xml("publish", { node: "urn:example:x" }, xml("item"))),
      ),
    );
    assert.equal(pubsubCondition(noPayload), "payload-required");
    const noNode = await gina.iq(
      xml("iq", { type: "set" }, xml("pubsub", { xmlns: PUBSUB }, xml("publish", null, xml("item", null, tune("x"))))),
    );
    assert.equal(pubsubCondition(noNode), "nodeid-required");
  });

  it("keeps nodes, configuration and items across a restart, and removes them with the account", async () => {
    const bob = await login("bob");
    await publish(bob, "urn:example:persist", xml("p", { xmlns: "urn:example" }, "kept"), {
      id: "k",
      options: { "pubsub#access_model": "whitelist", "pubsub#max_items": "5" },
    });
    await bob.close();
    await suite.restart();
    const again = await login("bob");
    const items = await getItems(again, "urn:example:persist");
    assert.equal(itemsOf(items)[0]?.getChild("p")?.text(), "kept");
    const r = await publish(again, "urn:example:persist", xml("p", { xmlns: "urn:example" }, "x"), {
      options: { "pubsub#access_model": "whitelist" },
    });
    assert.equal(r.attrs.type, "result", "the stored configuration still matches");
    await suite.ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "bob" });
    assert.deepEqual(await suite.ts.server.core.storage.pubsub.listNodes("bob@localhost"), []);
  });

  it("a contact who unsubscribes loses access to presence nodes", async () => {
    const carol = await login("carol", { presence: true });
    const dave = await login("dave", { presence: true });
    await subscribe(dave, carol); // Dave receives Carol's presence: Carol's roster says "from" for Dave.
    await publish(carol, "urn:example:p", xml("p", { xmlns: "urn:example" }));
    assert.equal(itemIds(await getItems(dave, "urn:example:p", { to: "carol@localhost" })).length, 1);
    carol.send(xml("presence", { to: "dave@localhost", type: "unsubscribed" }));
    await dave.expect((el) => el.name === "presence" && el.attrs.type === "unsubscribed");
    assert.equal(
      pubsubCondition(await getItems(dave, "urn:example:p", { to: "carol@localhost" })),
      "presence-subscription-required",
    );
  });
});
