/**
 * The PEP services of one host (XEP-0163): one pubsub service per account, at its bare JID. This file holds the
 * operations and their rules (XEP-0060 §6–§8); iq parsing is in handlers.ts and notification fan-out in notify.ts.
 */
import { randomUUID } from "node:crypto";
import type { ModuleContext } from "../../core/module.ts";
import type { Jid } from "../../jid/jid.ts";
import type { PubsubConfig, PubsubItem, PubsubNode } from "../../storage/pubsub.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { KeyedLock } from "../im/keyed-lock.ts";
import { bareOf } from "./access.ts";
import { defaultConfig, normalizeFields, settingsOf, unmetPrecondition } from "./config.ts";
import { pubsubErrors } from "./errors.ts";
import { itemElement, itemsEvent, type Notifier } from "./notify.ts";
import { parsePayload } from "./payload.ts";

/** Most nodes one account may have: PEP nodes are few (avatar, nick, OMEMO, bookmarks...); this stops abuse. */
export const MAX_NODES = 1000;

/** Per-node behaviour other modules add: private defaults (bookmarks), payload checks (vCard4, avatar). */
export interface NodePolicy {
  /** Configuration a node gets when it is created without options (publish-options still win). */
  defaults?: PubsubConfig;
  /** Checks an item before it is stored; throws a PubsubError to refuse it. */
  validate?(payload: XmlElement, id: string): void;
}

/** An item as other modules see it. */
export interface PepItem {
  id: string;
  payload: XmlElement | null;
  publisher: string | null;
  publishedAt: number;
}

export interface PublishRequest {
  /** Item id; generated when absent (XEP-0060 §7.1.2). */
  id?: string;
  payload: XmlElement;
  /** Publish-options (XEP-0060 §7.1.5): preconditions for an existing node, configuration for a new one. */
  options?: Map<string, string[]>;
  publisher: Jid;
}

/** How a change was made, for modules that mirror data between formats and must not loop. */
export interface ChangeOrigin {
  /** Set by a module publishing on the user's behalf (e.g. "bookmarks", "avatar-compat"). */
  by?: string;
}

declare module "../../core/host.ts" {
  interface HostEvents {
    /** An item was published to an account's PEP node (after it was stored and notified). */
    "pep.published": { username: string; node: string; item: PepItem; origin: ChangeOrigin };
    /** An item was retracted from an account's PEP node. */
    "pep.retracted": { username: string; node: string; id: string; origin: ChangeOrigin };
    /** A node was deleted or purged: all its items are gone. */
    "pep.cleared": { username: string; node: string; deleted: boolean; origin: ChangeOrigin };
  }
}

/** A stored item as other modules see it. */
export function toPepItem(item: PubsubItem): PepItem {
  return { id: item.id, payload: parsePayload(item.payload), publisher: item.publisher, publishedAt: item.publishedAt };
}

export class PepHost {
  private readonly lock = new KeyedLock();
  private readonly policies = new Map<string, NodePolicy>();

  constructor(
    private readonly ctx: ModuleContext,
    readonly notifier: Notifier,
  ) {}

  /** The service JID of an account. */
  service(username: string): string {
    return `${username}@${this.ctx.host.name}`;
  }

  addPolicy(node: string, policy: NodePolicy): void {
    this.policies.set(node, policy);
  }

  /** The configuration defaults a node of this name gets. */
  policyDefaults(node: string): PubsubConfig | undefined {
    return this.policies.get(node)?.defaults;
  }

  getNode(username: string, node: string): Promise<PubsubNode | null> {
    return this.ctx.storage.pubsub.getNode(this.service(username), node);
  }

  listNodes(username: string): Promise<PubsubNode[]> {
    return this.ctx.storage.pubsub.listNodes(this.service(username));
  }

  /** A node that must exist (item-not-found otherwise). */
  async requireNode(username: string, node: string): Promise<PubsubNode> {
    const n = await this.getNode(username, node);
    if (!n) throw pubsubErrors.nodeNotFound();
    return n;
  }

  /** Publishes an item (XEP-0060 §7.1), creating the node first if needed (auto-create). Returns the item id. */
  async publish(username: string, node: string, req: PublishRequest, origin: ChangeOrigin = {}): Promise<string> {
    const policy = this.policies.get(node);
    const id = req.id ?? randomUUID();
    policy?.validate?.(req.payload, id);
    const item: PubsubItem = {
      id,
      publisher: req.publisher.bareString,
      payload: req.payload.toString(),
      publishedAt: Date.now(),
    };
    const n = await this.lock.run(username, async () => {
      const existing = await this.getNode(username, node);
      let current = existing;
      if (!current) {
        let options: PubsubConfig = {};
        if (req.options) {
          try {
            options = normalizeFields(req.options);
          } catch (err) {
            // §7.1.5: options the service cannot apply fail the publish as an unmet precondition.
            throw pubsubErrors.preconditionNotMet(err instanceof Error ? err.message : undefined);
          }
        }
        current = await this.create(username, node, { ...defaultConfig(policy?.defaults), ...options });
      } else if (req.options) {
        const unmet = unmetPrecondition(current.config, req.options);
        if (unmet) throw pubsubErrors.preconditionNotMet(`The node's ${unmet} does not match`);
      }
      const settings = settingsOf(current.config);
      if (settings.persistItems) {
        await this.ctx.storage.pubsub.publishItem(this.service(username), node, item, settings.maxItems);
      }
      return current;
    });
    const settings = settingsOf(n.config);
    await this.notifier.broadcast(username, n, ({ withPayload }) =>
      itemsEvent(node, [itemElement(item, withPayload, settings.itemReplyPublisher)]),
    );
    await this.ctx.host.events.fire("pep.published", { username, node, item: toPepItem(item), origin });
    return id;
  }

  /** XEP-0060 §7.2: removes an item; notifies when asked to (or, when not said, as the node is configured). */
  async retract(username: string, node: string, id: string, notify?: boolean, origin: ChangeOrigin = {}) {
    const n = await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      if (!(await this.ctx.storage.pubsub.retractItem(this.service(username), node, id))) {
        throw pubsubErrors.itemNotFound();
      }
      return current;
    });
    if (notify ?? settingsOf(n.config).notifyRetract) {
      await this.notifier.broadcast(username, n, () => itemsEvent(node, [xml("retract", { id })]));
    }
    await this.ctx.host.events.fire("pep.retracted", { username, node, id, origin });
  }

  /** Items of a node, oldest first, as `requester` may see them (XEP-0060 §6.5). */
  async items(
    username: string,
    node: string,
    requester: Jid,
    query: { max?: number; ids?: string[] } = {},
  ): Promise<{ node: PubsubNode; items: PubsubItem[] }> {
    const n = await this.requireNode(username, node);
    const denial = await this.notifier.checker(username).denial(n, requester);
    if (denial) throw denial;
    const items = await this.ctx.storage.pubsub.getItems(this.service(username), node, query);
    return { node: n, items };
  }

  /** Items for other modules (no access check). */
  async read(username: string, node: string, query: { max?: number; ids?: string[] } = {}): Promise<PepItem[]> {
    return (await this.ctx.storage.pubsub.getItems(this.service(username), node, query)).map(toPepItem);
  }

  /** XEP-0060 §8.1: creates a node with a configuration (defaults plus the node's policy plus the given fields). */
  async createNode(username: string, node: string, fields?: Map<string, string[]>): Promise<void> {
    const config = { ...defaultConfig(this.policies.get(node)?.defaults), ...normalizeFields(fields ?? new Map()) };
    await this.lock.run(username, async () => {
      if (await this.getNode(username, node)) throw pubsubErrors.nodeExists();
      await this.create(username, node, config);
    });
  }

  /** XEP-0060 §8.2.4: applies submitted configuration fields; items beyond a lowered maximum are dropped. */
  async configure(username: string, node: string, fields: Map<string, string[]>): Promise<void> {
    const changes = normalizeFields(fields);
    const n = await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      const updated = { ...current, config: { ...current.config, ...changes } };
      await this.ctx.storage.pubsub.updateNode(this.service(username), updated);
      const settings = settingsOf(updated.config);
      const items = await this.ctx.storage.pubsub.getItems(this.service(username), node);
      const drop = settings.persistItems ? items.slice(0, Math.max(0, items.length - settings.maxItems)) : items;
      for (const it of drop) await this.ctx.storage.pubsub.retractItem(this.service(username), node, it.id);
      return updated;
    });
    if (settingsOf(n.config).notifyConfig) {
      await this.notifier.broadcast(username, n, () => xml("configuration", { node }));
    }
  }

  /** XEP-0060 §8.4: deletes a node with its items and tells its subscribers. */
  async deleteNode(username: string, node: string, origin: ChangeOrigin = {}): Promise<void> {
    const n = await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      await this.ctx.storage.pubsub.deleteNode(this.service(username), node);
      return current;
    });
    // Recipients are computed from the node as it was: its subscribers and access model.
    if (settingsOf(n.config).notifyDelete) await this.notifier.broadcast(username, n, () => xml("delete", { node }));
    await this.ctx.host.events.fire("pep.cleared", { username, node, deleted: true, origin });
  }

  /** XEP-0060 §8.5: removes every item of a node. */
  async purge(username: string, node: string, origin: ChangeOrigin = {}): Promise<void> {
    const n = await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      await this.ctx.storage.pubsub.purgeNode(this.service(username), node);
      return current;
    });
    if (settingsOf(n.config).notifyRetract) await this.notifier.broadcast(username, n, () => xml("purge", { node }));
    await this.ctx.host.events.fire("pep.cleared", { username, node, deleted: false, origin });
  }

  /** Replaces a node's affiliations (XEP-0060 §8.9.2); `none` removes one. */
  async setAffiliations(username: string, node: string, changes: Map<string, string>): Promise<void> {
    await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      const affiliations = { ...current.affiliations };
      for (const [jid, aff] of changes) {
        if (aff === "none") delete affiliations[jid];
        else affiliations[jid] = aff;
      }
      await this.ctx.storage.pubsub.updateNode(this.service(username), { ...current, affiliations });
    });
  }

  /** XEP-0060 §6.1: an explicit subscription; the last item follows unless the node says never. */
  async subscribe(username: string, node: string, jid: string, requester: Jid): Promise<void> {
    const n = await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      const denial = await this.notifier.checker(username).denial(current, requester);
      if (denial) throw denial;
      const updated = { ...current, subscriptions: { ...current.subscriptions, [jid]: "subscribed" } };
      await this.ctx.storage.pubsub.updateNode(this.service(username), updated);
      return updated;
    });
    if (settingsOf(n.config).sendLast !== "never") {
      const [last] = await this.ctx.storage.pubsub.getItems(this.service(username), node, { max: 1 });
      if (last) await this.notifier.sendLast(username, n, last, jid);
    }
  }

  /** XEP-0060 §6.2. */
  async unsubscribe(username: string, node: string, jid: string): Promise<void> {
    await this.lock.run(username, async () => {
      const current = await this.requireNode(username, node);
      if (current.subscriptions[jid] === undefined) throw pubsubErrors.notSubscribed();
      const subscriptions = { ...current.subscriptions };
      delete subscriptions[jid];
      await this.ctx.storage.pubsub.updateNode(this.service(username), { ...current, subscriptions });
    });
  }

  /**
   * Ends the explicit subscriptions of an entity to an account's nodes (its bare JID ends them all): used when
   * notifications to it bounce (XEP-0060 §7.1.2.1 lets a service cancel such subscriptions).
   */
  async dropSubscriber(username: string, jid: string): Promise<void> {
    await this.lock.run(username, async () => {
      for (const n of await this.listNodes(username)) {
        const subscriptions = { ...n.subscriptions };
        for (const sub of Object.keys(subscriptions)) {
          if (sub === jid || bareOf(sub) === jid) delete subscriptions[sub];
        }
        if (Object.keys(subscriptions).length !== Object.keys(n.subscriptions).length) {
          await this.ctx.storage.pubsub.updateNode(this.service(username), { ...n, subscriptions });
        }
      }
    });
  }

  /**
   * XEP-0163 §4.3.2: an entity interested in some nodes (by its `+notify` features) became available to the
   * account: it gets the last item of each node it may see, unless the node says otherwise.
   */
  async sendLastItems(username: string, jid: string, features: ReadonlySet<string>): Promise<void> {
    const nodes = await this.listNodes(username);
    if (nodes.length === 0) return;
    const checker = this.notifier.checker(username);
    for (const n of nodes) {
      if (!features.has(`${n.node}+notify`)) continue;
      const settings = settingsOf(n.config);
      if (settings.sendLast !== "on_sub_and_presence" || !(await checker.allowed(n, jid))) continue;
      const [last] = await this.ctx.storage.pubsub.getItems(this.service(username), n.node, { max: 1 });
      if (last) await this.notifier.sendLast(username, n, last, jid);
    }
  }

  /** Removes everything of an account (account deletion). */
  async deleteAccount(username: string): Promise<void> {
    await this.lock.run(username, () => this.ctx.storage.pubsub.deleteService(this.service(username)));
  }

  private async create(username: string, node: string, config: PubsubConfig): Promise<PubsubNode> {
    const count = (await this.listNodes(username)).length;
    if (count >= MAX_NODES) throw pubsubErrors.tooManyNodes();
    const n: PubsubNode = { node, config, affiliations: {}, subscriptions: {}, createdAt: Date.now() };
    if (!(await this.ctx.storage.pubsub.createNode(this.service(username), n))) throw pubsubErrors.nodeExists();
    return n;
  }
}
