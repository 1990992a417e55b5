/**
 * Event notifications (XEP-0060 §7.1.2.1, §7.2.2.1, §8.4, §8.5) for one account's nodes. Recipients are the explicit
 * subscribers, and — XEP-0163 §4.3 "auto-subscribe" with "filtered-notifications" — every available resource that
 * reaches the account with presence (the owner's own resources, contacts, directed presence) whose client advertises
 * `<node>+notify` in its entity capabilities. Everyone is checked against the node's access model at send time.
 */
import { randomBytes } from "node:crypto";
import type { ModuleContext } from "../../core/module.ts";
import { delayElement } from "../../core/stanza.ts";
import type { PubsubItem, PubsubNode } from "../../storage/pubsub.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import type { RosterService } from "../im/roster-service.ts";
import { AccessChecker, bareOf } from "./access.ts";
import { settingsOf } from "./config.ts";
import type { EntityCapsService } from "./entity-caps.ts";
import { PUBSUB } from "./ns.ts";
import { parsePayload } from "./payload.ts";

/** Ids of notification messages start with this, so that bounces can be recognized. */
export const NOTIFICATION_ID_PREFIX = "pep-";

/** What a notification says; the element goes inside `<event xmlns='…pubsub#event'/>`. */
export type EventBody = (opts: { withPayload: boolean }) => XmlElement;

export class Notifier {
  constructor(
    private readonly ctx: ModuleContext,
    private readonly roster: RosterService | undefined,
    private readonly caps: EntityCapsService | undefined,
  ) {}

  /** Access checks for one account's service. */
  checker(username: string): AccessChecker {
    return new AccessChecker(this.roster, username, `${username}@${this.ctx.host.name}`);
  }

  /** The JIDs that get notifications about `node` of `username`'s service now. */
  async recipients(username: string, node: PubsubNode): Promise<string[]> {
    const owner = `${username}@${this.ctx.host.name}`;
    const checker = this.checker(username);
    const out: string[] = [];
    const explicitBare = new Set<string>();
    for (const [jid, state] of Object.entries(node.subscriptions)) {
      if (state !== "subscribed" || !(await checker.allowed(node, jid))) continue;
      out.push(jid);
      if (!jid.includes("/")) explicitBare.add(jid);
    }
    const interest = `${node.node}+notify`;
    for (const jid of this.caps?.sources(owner) ?? []) {
      if (out.includes(jid) || explicitBare.has(bareOf(jid))) continue;
      if (!this.caps?.features(jid)?.has(interest)) continue;
      if (await checker.allowed(node, jid)) out.push(jid);
    }
    return out;
  }

  /** Sends an event about `node` to everyone who should get it. */
  async broadcast(username: string, node: PubsubNode, body: EventBody): Promise<void> {
    const settings = settingsOf(node.config);
    if (!settings.deliverNotifications) return;
    const targets = await this.recipients(username, node);
    if (targets.length === 0) return;
    const event = body({ withPayload: settings.deliverPayloads });
    for (const to of targets) {
      await this.send(username, to, settings.notificationType, event.clone());
    }
  }

  /**
   * Sends the last item of a node to one entity (XEP-0060 §6.1.7 on subscription, XEP-0163 §4.3.2 on presence),
   * with the time it was published (XEP-0203).
   */
  async sendLast(username: string, node: PubsubNode, item: PubsubItem, to: string): Promise<void> {
    const settings = settingsOf(node.config);
    if (!settings.deliverNotifications) return;
    const event = itemsEvent(node.node, [itemElement(item, settings.deliverPayloads, settings.itemReplyPublisher)]);
    const owner = `${username}@${this.ctx.host.name}`;
    await this.send(username, to, settings.notificationType, event, delayElement(owner, new Date(item.publishedAt)));
  }

  private async send(username: string, to: string, type: string, event: XmlElement, delay?: XmlElement): Promise<void> {
    const from = `${username}@${this.ctx.host.name}`;
    const id = `${NOTIFICATION_ID_PREFIX}${randomBytes(6).toString("hex")}`;
    const message = xml("message", { from, to, type, id }, xml("event", { xmlns: PUBSUB.event }, event), delay);
    try {
      await this.ctx.send(message);
    } catch (err) {
      this.ctx.log.warn({ err, to }, "pep notification failed");
    }
  }
}

/** `<items node='…'>…</items>` for an event. */
export function itemsEvent(node: string, children: XmlElement[]): XmlElement {
  return xml("items", { node }, ...children);
}

/** An `<item/>` as it appears in a result or a notification. */
export function itemElement(item: PubsubItem, withPayload: boolean, withPublisher: boolean): XmlElement {
  const payload = withPayload ? parsePayload(item.payload) : null;
  return xml("item", { id: item.id, publisher: withPublisher ? (item.publisher ?? undefined) : undefined }, payload);
}
