import type Database from "better-sqlite3";
import type { PubsubItem, PubsubItemQuery, PubsubNode, PubsubStore } from "../pubsub.ts";

interface NodeRow {
  node: string;
  config: string;
  affiliations: string;
  subscriptions: string;
  created_at: number;
}

interface ItemRow {
  seq: number;
  item_id: string;
  publisher: string | null;
  payload: string;
  published_at: number;
}

function toNode(row: NodeRow): PubsubNode {
  return {
    node: row.node,
    config: JSON.parse(row.config),
    affiliations: JSON.parse(row.affiliations),
    subscriptions: JSON.parse(row.subscriptions),
    createdAt: row.created_at,
  };
}

function toItem(row: ItemRow): PubsubItem {
  return { id: row.item_id, publisher: row.publisher, payload: row.payload, publishedAt: row.published_at };
}

/**
 * Pubsub nodes and items in the `pubsub_nodes` / `pubsub_items` tables. Items are ordered by `seq`, a counter
 * that a re-publish under the same id bumps, so "newest" always means "last published".
 */
export class SqlitePubsubStore implements PubsubStore {
  readonly #getNode: Database.Statement<[string, string], NodeRow>;
  readonly #listNodes: Database.Statement<[string], NodeRow>;
  readonly #createNode: Database.Statement<[string, string, string, string, string, number]>;
  readonly #updateNode: Database.Statement<[string, string, string, string, string]>;
  readonly #deleteNode: Database.Statement<[string, string]>;
  readonly #deleteItemsOfNode: Database.Statement<[string, string]>;
  readonly #deleteItem: Database.Statement<[string, string, string]>;
  readonly #insertItem: Database.Statement<[string, string, string, string | null, string, number]>;
  readonly #itemsNewestFirst: Database.Statement<[string, string, number], ItemRow>;
  readonly #allItems: Database.Statement<[string, string], ItemRow>;
  readonly #oneItem: Database.Statement<[string, string, string], ItemRow>;
  readonly #beyond: Database.Statement<[string, string, number], { item_id: string; seq: number }>;
  readonly #deleteServiceNodes: Database.Statement<[string]>;
  readonly #deleteServiceItems: Database.Statement<[string]>;
  readonly #deleteNodeTx: (service: string, node: string) => boolean;
  readonly #publishTx: (service: string, node: string, item: PubsubItem, maxItems: number) => string[];
  readonly #purgeTx: (service: string, node: string) => number;
  readonly #deleteServiceTx: (service: string) => void;

  constructor(db: Database.Database) {
    const cols = "node, config, affiliations, subscriptions, created_at";
    this.#getNode = db.prepare(`SELECT ${cols} FROM pubsub_nodes WHERE service = ? AND node = ?`);
    this.#listNodes = db.prepare(`SELECT ${cols} FROM pubsub_nodes WHERE service = ? ORDER BY node`);
    this.#createNode = db.prepare(
      `INSERT INTO pubsub_nodes (service, ${cols}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (service, node) DO NOTHING`,
    );
    this.#updateNode = db.prepare(
      "UPDATE pubsub_nodes SET config = ?, affiliations = ?, subscriptions = ? WHERE service = ? AND node = ?",
    );
    this.#deleteNode = db.prepare("DELETE FROM pubsub_nodes WHERE service = ? AND node = ?");
    this.#deleteItemsOfNode = db.prepare("DELETE FROM pubsub_items WHERE service = ? AND node = ?");
    this.#deleteItem = db.prepare("DELETE FROM pubsub_items WHERE service = ? AND node = ? AND item_id = ?");
    this.#insertItem = db.prepare(
      "INSERT INTO pubsub_items (service, node, item_id, publisher, payload, published_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const itemCols = "seq, item_id, publisher, payload, published_at";
    this.#itemsNewestFirst = db.prepare(
      `SELECT ${itemCols} FROM pubsub_items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT ?`,
    );
    this.#allItems = db.prepare(`SELECT ${itemCols} FROM pubsub_items WHERE service = ? AND node = ? ORDER BY seq`);
    this.#oneItem = db.prepare(`SELECT ${itemCols} FROM pubsub_items WHERE service = ? AND node = ? AND item_id = ?`);
    // Everything older than the newest N (LIMIT -1: no limit, SQLite-only; PostgreSQL: OFFSET alone).
    this.#beyond = db.prepare(
      "SELECT item_id, seq FROM pubsub_items WHERE service = ? AND node = ? ORDER BY seq DESC LIMIT -1 OFFSET ?",
    );
    this.#deleteServiceNodes = db.prepare("DELETE FROM pubsub_nodes WHERE service = ?");
    this.#deleteServiceItems = db.prepare("DELETE FROM pubsub_items WHERE service = ?");

    this.#deleteNodeTx = db.transaction((service: string, node: string) => {
      this.#deleteItemsOfNode.run(service, node);
      return this.#deleteNode.run(service, node).changes > 0;
    });
    this.#publishTx = db.transaction((service: string, node: string, item: PubsubItem, maxItems: number) => {
      // Delete then insert: the replaced item gets a new seq and so becomes the newest.
      this.#deleteItem.run(service, node, item.id);
      this.#insertItem.run(service, node, item.id, item.publisher, item.payload, item.publishedAt);
      const old = this.#beyond.all(service, node, Math.max(0, maxItems));
      for (const row of old) this.#deleteItem.run(service, node, row.item_id);
      return old.reverse().map((row) => row.item_id);
    });
    this.#purgeTx = db.transaction(
      (service: string, node: string) => this.#deleteItemsOfNode.run(service, node).changes,
    );
    this.#deleteServiceTx = db.transaction((service: string) => {
      this.#deleteServiceItems.run(service);
      this.#deleteServiceNodes.run(service);
    });
  }

  async getNode(service: string, node: string): Promise<PubsubNode | null> {
    const row = this.#getNode.get(service, node);
    return row ? toNode(row) : null;
  }

  async listNodes(service: string): Promise<PubsubNode[]> {
    return this.#listNodes.all(service).map(toNode);
  }

  async createNode(service: string, node: PubsubNode): Promise<boolean> {
    const r = this.#createNode.run(
      service,
      node.node,
      JSON.stringify(node.config),
      JSON.stringify(node.affiliations),
      JSON.stringify(node.subscriptions),
      node.createdAt,
    );
    return r.changes > 0;
  }

  async updateNode(service: string, node: PubsubNode): Promise<boolean> {
    const r = this.#updateNode.run(
      JSON.stringify(node.config),
      JSON.stringify(node.affiliations),
      JSON.stringify(node.subscriptions),
      service,
      node.node,
    );
    return r.changes > 0;
  }

  async deleteNode(service: string, node: string): Promise<boolean> {
    return this.#deleteNodeTx(service, node);
  }

  async publishItem(service: string, node: string, item: PubsubItem, maxItems: number): Promise<string[]> {
    return this.#publishTx(service, node, item, maxItems);
  }

  async getItems(service: string, node: string, query: PubsubItemQuery = {}): Promise<PubsubItem[]> {
    let rows: ItemRow[];
    if (query.ids) {
      rows = [];
      for (const id of new Set(query.ids)) {
        const row = this.#oneItem.get(service, node, id);
        if (row) rows.push(row);
      }
      rows.sort((a, b) => a.seq - b.seq);
      if (query.max !== undefined) rows = rows.slice(Math.max(0, rows.length - query.max));
    } else if (query.max !== undefined) {
      rows = this.#itemsNewestFirst.all(service, node, Math.max(0, query.max)).reverse();
    } else {
      rows = this.#allItems.all(service, node);
    }
    return rows.map(toItem);
  }

  async retractItem(service: string, node: string, id: string): Promise<boolean> {
    return this.#deleteItem.run(service, node, id).changes > 0;
  }

  async purgeNode(service: string, node: string): Promise<number> {
    return this.#purgeTx(service, node);
  }

  async deleteService(service: string): Promise<void> {
    this.#deleteServiceTx(service);
  }
}
