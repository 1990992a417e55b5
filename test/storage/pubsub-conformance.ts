import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { PubsubItem, PubsubNode } from "../../src/storage/pubsub.ts";
import type { Storage } from "../../src/storage/types.ts";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

function node(name: string, fields: Partial<PubsubNode> = {}): PubsubNode {
  return {
    node: name,
    config: { "pubsub#max_items": ["10"], "pubsub#access_model": ["presence"] },
    affiliations: {},
    subscriptions: {},
    createdAt: 1_700_000_000_000,
    ...fields,
  };
}

function item(id: string, payload = `<x xmlns='urn:example'>${id}</x>`, at = Date.now()): PubsubItem {
  return { id, publisher: ALICE, payload, publishedAt: at };
}

const ids = (items: PubsubItem[]) => items.map((i) => i.id);

/** The behaviour every backend's `PubsubStore` must have; call once per backend, like `storageConformance`. */
export function pubsubConformance(name: string, open: () => Promise<Storage>): void {
  describe(`pubsub store conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    it("creates a node once, reads it back, and lists nodes by id", async () => {
      const n = node("urn:xmpp:avatar:metadata", {
        affiliations: { "carol@example.com": "member" },
        subscriptions: { "bob@example.com/phone": "subscribed" },
      });
      assert.equal(await storage.pubsub.createNode(ALICE, n), true);
      assert.equal(await storage.pubsub.createNode(ALICE, node("urn:xmpp:avatar:metadata", { config: {} })), false);
      assert.deepEqual(await storage.pubsub.getNode(ALICE, "urn:xmpp:avatar:metadata"), n);
      await storage.pubsub.createNode(ALICE, node("eu.siacs.conversations.axolotl.devicelist"));
      await storage.pubsub.createNode(ALICE, node("http://jabber.org/protocol/nick"));
      assert.deepEqual(
        (await storage.pubsub.listNodes(ALICE)).map((x) => x.node),
        ["eu.siacs.conversations.axolotl.devicelist", "http://jabber.org/protocol/nick", "urn:xmpp:avatar:metadata"],
      );
      assert.equal(await storage.pubsub.getNode(ALICE, "missing"), null);
      assert.deepEqual(await storage.pubsub.listNodes(BOB), []);
    });

    it("updates config, affiliations and subscriptions, and reports a missing node", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      const changed = node("n", {
        config: { "pubsub#access_model": ["whitelist"], "pubsub#roster_groups_allowed": ["a", "b"] },
        affiliations: { "bob@example.com": "outcast" },
        subscriptions: { "bob@example.com": "subscribed" },
      });
      assert.equal(await storage.pubsub.updateNode(ALICE, changed), true);
      assert.deepEqual(await storage.pubsub.getNode(ALICE, "n"), changed);
      assert.equal(await storage.pubsub.updateNode(ALICE, node("other")), false);
      assert.equal(await storage.pubsub.getNode(ALICE, "other"), null);
    });

    it("returns items oldest first, the newest N, and selected ids", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      for (const id of ["a", "b", "c", "d"])
        assert.deepEqual(await storage.pubsub.publishItem(ALICE, "n", item(id), 10), []);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n")), ["a", "b", "c", "d"]);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n", { max: 2 })), ["c", "d"]);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n", { max: 0 })), []);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n", { ids: ["d", "a", "zz", "a"] })), ["a", "d"]);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n", { ids: ["d", "a", "b"], max: 1 })), ["d"]);
      assert.deepEqual(await storage.pubsub.getItems(ALICE, "missing"), []);
    });

    it("replaces an item published again under its id and makes it the newest", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      await storage.pubsub.publishItem(ALICE, "n", item("a", "<old/>", 1), 10);
      await storage.pubsub.publishItem(ALICE, "n", item("b"), 10);
      await storage.pubsub.publishItem(ALICE, "n", { id: "a", publisher: null, payload: "<new/>", publishedAt: 5 }, 10);
      const all = await storage.pubsub.getItems(ALICE, "n");
      assert.deepEqual(ids(all), ["b", "a"]);
      assert.deepEqual(all[1], { id: "a", publisher: null, payload: "<new/>", publishedAt: 5 });
    });

    it("drops the oldest items beyond the maximum and says which", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      for (const id of ["a", "b", "c"]) await storage.pubsub.publishItem(ALICE, "n", item(id), 3);
      assert.deepEqual(await storage.pubsub.publishItem(ALICE, "n", item("d"), 2), ["a", "b"]);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n")), ["c", "d"]);
      // A max of one keeps only the last published item (the PEP default).
      assert.deepEqual(await storage.pubsub.publishItem(ALICE, "n", item("c"), 1), ["d"]);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n")), ["c"]);
    });

    it("retracts one item and purges a node, keeping the node", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      for (const id of ["a", "b", "c"]) await storage.pubsub.publishItem(ALICE, "n", item(id), 10);
      assert.equal(await storage.pubsub.retractItem(ALICE, "n", "b"), true);
      assert.equal(await storage.pubsub.retractItem(ALICE, "n", "b"), false);
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n")), ["a", "c"]);
      assert.equal(await storage.pubsub.purgeNode(ALICE, "n"), 2);
      assert.deepEqual(await storage.pubsub.getItems(ALICE, "n"), []);
      assert.ok(await storage.pubsub.getNode(ALICE, "n"));
      assert.equal(await storage.pubsub.purgeNode(ALICE, "n"), 0);
    });

    it("deletes a node with its items; a node created again starts empty", async () => {
      await storage.pubsub.createNode(ALICE, node("n"));
      await storage.pubsub.publishItem(ALICE, "n", item("a"), 10);
      assert.equal(await storage.pubsub.deleteNode(ALICE, "n"), true);
      assert.equal(await storage.pubsub.deleteNode(ALICE, "n"), false);
      assert.equal(await storage.pubsub.getNode(ALICE, "n"), null);
      await storage.pubsub.createNode(ALICE, node("n"));
      assert.deepEqual(await storage.pubsub.getItems(ALICE, "n"), []);
    });

    it("keeps services and nodes apart, and deleteService removes only that service", async () => {
      for (const service of [ALICE, BOB]) {
        await storage.pubsub.createNode(service, node("n"));
        await storage.pubsub.createNode(service, node("m"));
        await storage.pubsub.publishItem(service, "n", item(`${service}-1`), 10);
        await storage.pubsub.publishItem(service, "m", item("same-id"), 10);
      }
      assert.deepEqual(ids(await storage.pubsub.getItems(ALICE, "n")), [`${ALICE}-1`]);
      assert.deepEqual(ids(await storage.pubsub.getItems(BOB, "m")), ["same-id"]);
      await storage.pubsub.retractItem(ALICE, "m", "same-id");
      assert.deepEqual(ids(await storage.pubsub.getItems(BOB, "m")), ["same-id"]);
      await storage.pubsub.deleteService(ALICE);
      assert.deepEqual(await storage.pubsub.listNodes(ALICE), []);
      assert.deepEqual(await storage.pubsub.getItems(ALICE, "n"), []);
      assert.deepEqual(
        (await storage.pubsub.listNodes(BOB)).map((x) => x.node),
        ["m", "n"],
      );
      assert.deepEqual(ids(await storage.pubsub.getItems(BOB, "n")), [`${BOB}-1`]);
    });

    it("round-trips large payloads, Unicode ids and node names exactly", async () => {
      const big = `<data xmlns='urn:xmpp:avatar:data'>${"iVBORw0KGgo=".repeat(30_000)}</data>`;
      const unicodeNode = "urn:example:ñødé:😀";
      await storage.pubsub.createNode("jüliet@exämple.com", node(unicodeNode));
      const it1 = { id: "ïtem 😀 <&>", publisher: "jüliet@exämple.com/☕", payload: big, publishedAt: 42 };
      await storage.pubsub.publishItem("jüliet@exämple.com", unicodeNode, it1, 1);
      assert.deepEqual(await storage.pubsub.getItems("jüliet@exämple.com", unicodeNode), [it1]);
      assert.deepEqual(await storage.pubsub.getItems("jüliet@exämple.com", unicodeNode, { ids: [it1.id] }), [it1]);
    });
  });
}
