/**
 * The XEP-0060 requests a PEP service answers, read from the iq and handed to PepHost. The service is the
 * addressed account; only its owner may publish, configure, delete or purge (XEP-0163 §4.1: publish model
 * "publishers", where the owner is the only publisher).
 */
import type { StanzaEvent } from "../../core/host.ts";
import { type Jid, tryParseJid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { readForm } from "../../xmpp/data-forms.ts";
import { configForm, defaultConfig } from "./config.ts";
import { pubsubErrors } from "./errors.ts";
import { itemElement } from "./notify.ts";
import { PUBSUB } from "./ns.ts";
import { detachPayload } from "./payload.ts";
import type { PepHost } from "./service.ts";

/** What a handler returns: the result payload, or null for an empty result. */
type Result = XmlElement | null;

function nodeOf(el: XmlElement): string {
  const node = el.attrs.node;
  if (!node) throw pubsubErrors.nodeRequired();
  return node;
}

function isOwner(ev: StanzaEvent): boolean {
  return ev.from.bareString === ev.to.bareString;
}

function requireOwner(ev: StanzaEvent): void {
  if (!isOwner(ev)) throw pubsubErrors.ownerOnly();
}

function truthy(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return v === "1" || v === "true";
}

/** The JID a subscribe/unsubscribe names; it must be the requester's own bare or full JID (§6.1.3.1). */
function subscriberJid(el: XmlElement, requester: Jid): string {
  const jid = tryParseJid(el.attrs.jid ?? "");
  if (!jid || jid.bareString !== requester.bareString) throw pubsubErrors.invalidJid();
  return jid.toString();
}

export class PubsubHandlers {
  constructor(private readonly pep: PepHost) {}

  /** iq get in the pubsub namespace. */
  async get(ev: StanzaEvent, pubsub: XmlElement): Promise<Result> {
    const el = pubsub.firstElement();
    switch (el?.name) {
      case "items":
        return this.items(ev, el);
      case "subscriptions":
        return this.subscriptions(ev, el);
      case "affiliations":
        return this.affiliations(ev, el);
      default:
        throw pubsubErrors.unsupported(el?.name ?? "pubsub", "Unsupported pubsub request");
    }
  }

  /** iq set in the pubsub namespace. */
  async set(ev: StanzaEvent, pubsub: XmlElement): Promise<Result> {
    const els = pubsub.elements();
    const first = els[0];
    const username = ev.to.local;
    switch (first?.name) {
      case "publish": {
        requireOwner(ev);
        const options = pubsub.getChild("publish-options");
        return this.publish(ev, first, options, [ev.stanza, pubsub]);
      }
      case "retract": {
        requireOwner(ev);
        const node = nodeOf(first);
        const items = first.getChildren("item");
        const id = items[0]?.attrs.id;
        if (items.length !== 1 || !id) throw pubsubErrors.itemRequired();
        await this.pep.retract(username, node, id, truthy(first.attrs.notify));
        return null;
      }
      case "create": {
        requireOwner(ev);
        // XEP-0163 has no instant nodes: the client names the node.
        const node = nodeOf(first);
        const form = readForm(pubsub.getChild("configure"));
        await this.pep.createNode(username, node, form?.values);
        return null;
      }
      case "subscribe": {
        const node = nodeOf(first);
        const jid = subscriberJid(first, ev.from);
        await this.pep.subscribe(username, node, jid, ev.from);
        return xml("pubsub", { xmlns: PUBSUB.main }, xml("subscription", { node, jid, subscription: "subscribed" }));
      }
      case "unsubscribe": {
        const node = nodeOf(first);
        await this.pep.unsubscribe(username, node, subscriberJid(first, ev.from));
        return null;
      }
      case "options":
        throw pubsubErrors.unsupported("subscription-options");
      default:
        throw pubsubErrors.unsupported(first?.name ?? "pubsub", "Unsupported pubsub request");
    }
  }

  /** iq get in the pubsub#owner namespace. */
  async ownerGet(ev: StanzaEvent, pubsub: XmlElement): Promise<Result> {
    requireOwner(ev);
    const el = pubsub.firstElement();
    const username = ev.to.local;
    switch (el?.name) {
      case "configure": {
        const node = nodeOf(el);
        const n = await this.pep.requireNode(username, node);
        return xml("pubsub", { xmlns: PUBSUB.owner }, xml("configure", { node }, configForm(n.config)));
      }
      case "default":
        return this.defaultForm(el.attrs.node);
      case "affiliations": {
        const node = nodeOf(el);
        const n = await this.pep.requireNode(username, node);
        const list = xml("affiliations", { node }, xml("affiliation", { jid: ev.to.bareString, affiliation: "owner" }));
        for (const [jid, affiliation] of Object.entries(n.affiliations)) {
          list.append(xml("affiliation", { jid, affiliation }));
        }
        return xml("pubsub", { xmlns: PUBSUB.owner }, list);
      }
      case "subscriptions": {
        const node = nodeOf(el);
        const n = await this.pep.requireNode(username, node);
        const list = xml("subscriptions", { node });
        for (const [jid, subscription] of Object.entries(n.subscriptions)) {
          list.append(xml("subscription", { jid, subscription }));
        }
        return xml("pubsub", { xmlns: PUBSUB.owner }, list);
      }
      default:
        throw pubsubErrors.unsupported(el?.name ?? "pubsub", "Unsupported pubsub#owner request");
    }
  }

  /** iq set in the pubsub#owner namespace. */
  async ownerSet(ev: StanzaEvent, pubsub: XmlElement): Promise<Result> {
    requireOwner(ev);
    const el = pubsub.firstElement();
    const username = ev.to.local;
    switch (el?.name) {
      case "configure": {
        const node = nodeOf(el);
        const form = readForm(el);
        if (!form) throw pubsubErrors.notAcceptable("A configuration form is required");
        // XEP-0004 §3.1: a cancelled form changes nothing.
        if (form.type === "cancel") {
          await this.pep.requireNode(username, node);
          return null;
        }
        if (form.type !== "submit" || (form.formType !== undefined && form.formType !== PUBSUB.nodeConfig)) {
          throw pubsubErrors.notAcceptable("Submit a node_config form");
        }
        await this.pep.configure(username, node, form.values);
        return null;
      }
      case "delete":
        await this.pep.deleteNode(username, nodeOf(el));
        return null;
      case "purge":
        await this.pep.purge(username, nodeOf(el));
        return null;
      case "affiliations": {
        const node = nodeOf(el);
        const changes = new Map<string, string>();
        for (const a of el.getChildren("affiliation")) {
          const jid = tryParseJid(a.attrs.jid ?? "");
          const aff = a.attrs.affiliation ?? "";
          if (!jid || !["member", "outcast", "none"].includes(aff) || jid.bareString === ev.to.bareString) {
            throw pubsubErrors.notAcceptable("Affiliations are member, outcast or none, for others than the owner");
          }
          changes.set(jid.bareString, aff);
        }
        await this.pep.setAffiliations(username, node, changes);
        return null;
      }
      default:
        throw pubsubErrors.unsupported(el?.name ?? "pubsub", "Unsupported pubsub#owner request");
    }
  }

  private async publish(
    ev: StanzaEvent,
    publish: XmlElement,
    optionsEl: XmlElement | undefined,
    ancestors: XmlElement[],
  ): Promise<Result> {
    const node = nodeOf(publish);
    const items = publish.getChildren("item");
    // XEP-0060 §7.1.3.6: exactly one item, with exactly one payload element (nodes here always carry payloads).
    if (items.length === 0) throw pubsubErrors.itemRequired();
    if (items.length > 1) throw pubsubErrors.invalidPayload("Publish one item at a time");
    const item = items[0] as XmlElement;
    const payloads = item.elements();
    if (payloads.length === 0) throw pubsubErrors.payloadRequired();
    if (payloads.length > 1) throw pubsubErrors.invalidPayload("An item carries one payload element");
    let options: Map<string, string[]> | undefined;
    if (optionsEl) {
      const form = readForm(optionsEl);
      if (form && form.formType !== PUBSUB.publishOptions) {
        throw pubsubErrors.invalidPayload("publish-options must be a publish-options form");
      }
      options = form?.values;
    }
    const payload = detachPayload(payloads[0] as XmlElement, [...ancestors, publish, item]);
    const id = await this.pep.publish(ev.to.local, node, {
      id: item.attrs.id || undefined,
      payload,
      options,
      publisher: ev.from,
    });
    return xml("pubsub", { xmlns: PUBSUB.main }, xml("publish", { node }, xml("item", { id })));
  }

  private async items(ev: StanzaEvent, el: XmlElement): Promise<Result> {
    const node = nodeOf(el);
    const ids = el
      .getChildren("item")
      .map((i) => i.attrs.id)
      .filter((id): id is string => !!id);
    const maxAttr = el.attrs.max_items;
    let max: number | undefined;
    if (maxAttr !== undefined) {
      if (!/^\d{1,9}$/.test(maxAttr)) throw pubsubErrors.notAcceptable("max_items must be a number");
      max = Number.parseInt(maxAttr, 10);
    }
    const { node: n, items } = await this.pep.items(ev.to.local, node, ev.from, {
      ids: ids.length ? ids : undefined,
      max,
    });
    const withPublisher = n.config["pubsub#itemreply"]?.[0] === "publisher";
    return xml(
      "pubsub",
      { xmlns: PUBSUB.main },
      xml("items", { node }, ...items.map((it) => itemElement(it, true, withPublisher))),
    );
  }

  /** XEP-0060 §5.6: the requester's subscriptions on this service (or one node). */
  private async subscriptions(ev: StanzaEvent, el: XmlElement): Promise<Result> {
    const nodes = await this.pep.listNodes(ev.to.local);
    const list = xml("subscriptions", { node: el.attrs.node });
    for (const n of nodes) {
      if (el.attrs.node !== undefined && n.node !== el.attrs.node) continue;
      for (const [jid, subscription] of Object.entries(n.subscriptions)) {
        if (tryParseJid(jid)?.bareString === ev.from.bareString) {
          list.append(xml("subscription", { node: n.node, jid, subscription }));
        }
      }
    }
    return xml("pubsub", { xmlns: PUBSUB.main }, list);
  }

  /** XEP-0060 §5.7: the requester's affiliations on this service. */
  private async affiliations(ev: StanzaEvent, el: XmlElement): Promise<Result> {
    const nodes = await this.pep.listNodes(ev.to.local);
    const list = xml("affiliations", { node: el.attrs.node });
    for (const n of nodes) {
      if (el.attrs.node !== undefined && n.node !== el.attrs.node) continue;
      const affiliation = isOwner(ev) ? "owner" : n.affiliations[ev.from.bareString];
      if (affiliation) list.append(xml("affiliation", { node: n.node, affiliation }));
    }
    return xml("pubsub", { xmlns: PUBSUB.main }, list);
  }

  /** XEP-0060 §8.3: the configuration a new node gets (with a node name: the one that node would get). */
  private defaultForm(node: string | undefined): Result {
    const config = defaultConfig(node ? this.pep.policyDefaults(node) : undefined);
    return xml("pubsub", { xmlns: PUBSUB.owner }, xml("default", { node }, configForm(config)));
  }
}
