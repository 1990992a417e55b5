/**
 * Publish-subscribe data (XEP-0060): nodes and their items, per pubsub service. A service is named by its
 * JID: an account's bare JID for PEP (XEP-0163, `juliet@example.com`), or a service host (`pubsub.example.com`).
 * Node configuration, affiliations and subscriptions are opaque to the store: the pubsub module owns their
 * meaning and the store only keeps them.
 */

/** A node's configuration: data-form field var → values (`pubsub#max_items` → `["10"]`). */
export type PubsubConfig = Record<string, string[]>;

export interface PubsubNode {
  /** Node id, unique within the service. */
  node: string;
  config: PubsubConfig;
  /** Bare JID → affiliation (`member`, `outcast`, ...). The service owner is implicit and not listed. */
  affiliations: Record<string, string>;
  /** Subscriber JID (bare or full) → subscription state (`subscribed`). */
  subscriptions: Record<string, string>;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface PubsubItem {
  /** Item id, unique within the node. */
  id: string;
  /** JID of the entity that published it, if known. */
  publisher: string | null;
  /** Serialized payload element (may be the empty string for items without payload). */
  payload: string;
  /** Milliseconds since the epoch of the last publish under this id. */
  publishedAt: number;
}

export interface PubsubItemQuery {
  /** Only these ids (those that exist), in the node's order. */
  ids?: string[];
  /** Only the newest N items. */
  max?: number;
}

export interface PubsubStore {
  getNode(service: string, node: string): Promise<PubsubNode | null>;
  /** Every node of a service, ordered by node id. */
  listNodes(service: string): Promise<PubsubNode[]>;
  /** Creates a node; false (and nothing changed) if it already exists. */
  createNode(service: string, node: PubsubNode): Promise<boolean>;
  /** Replaces a node's config, affiliations and subscriptions; false if there is no such node. */
  updateNode(service: string, node: PubsubNode): Promise<boolean>;
  /** Deletes a node with all its items; false if there was none. */
  deleteNode(service: string, node: string): Promise<boolean>;
  /**
   * Stores an item in an existing node. An item with the same id is replaced and becomes the newest (XEP-0060
   * §7.1.2). Then the oldest items beyond `maxItems` are removed; their ids are returned, oldest first.
   */
  publishItem(service: string, node: string, item: PubsubItem, maxItems: number): Promise<string[]>;
  /** Items oldest first (by publish order). */
  getItems(service: string, node: string, query?: PubsubItemQuery): Promise<PubsubItem[]>;
  /** Removes one item; false if it was not there. */
  retractItem(service: string, node: string, id: string): Promise<boolean>;
  /** Removes every item of a node and returns how many there were. */
  purgeNode(service: string, node: string): Promise<number>;
  /** Removes every node and item of a service (account deletion). */
  deleteService(service: string): Promise<void>;
}
