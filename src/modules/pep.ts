import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import { iqResult } from "../core/stanza.ts";
import { type Jid, makeJid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { dataForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";
import { pubsubErrorReply } from "./pubsub/errors.ts";
import { PubsubHandlers } from "./pubsub/handlers.ts";
import { NOTIFICATION_ID_PREFIX, Notifier } from "./pubsub/notify.ts";
import { PUBSUB, pubsubFeature } from "./pubsub/ns.ts";
import { type ChangeOrigin, type NodePolicy, PepHost, type PepItem, toPepItem } from "./pubsub/service.ts";

/** The `pep` service: other modules publish and read on behalf of accounts (bookmarks, avatar conversion). */
export interface PepService {
  /** Publishes as the account itself, with notifications, as if its client did (publish-options included). */
  publish(
    username: string,
    node: string,
    item: { id?: string; payload: XmlElement; options?: Map<string, string[]> },
    origin?: ChangeOrigin,
  ): Promise<string>;
  /** Retracts an item with notifications; false if there was no such item or node. */
  retract(username: string, node: string, id: string, origin?: ChangeOrigin): Promise<boolean>;
  /** Items of a node, oldest first (no access check); [] if the node does not exist. */
  items(username: string, node: string, query?: { max?: number; ids?: string[] }): Promise<PepItem[]>;
  /**
   * Items of a node as `requester` may see them. Throws the pubsub error a client would get (item-not-found for a
   * missing node, not-authorized and so on, XEP-0060 §6.5.9).
   */
  itemsFor(
    username: string,
    node: string,
    requester: Jid,
    query?: { max?: number; ids?: string[] },
  ): Promise<PepItem[]>;
  /** Whether the node exists. */
  hasNode(username: string, node: string): Promise<boolean>;
  /** Adds defaults or payload checks for a node name. */
  addPolicy(node: string, policy: NodePolicy): void;
}

declare module "../core/module.ts" {
  interface HostServices {
    pep: PepService;
  }
}

/** XEP-0060 §10 features that are real here, advertised on every account (XEP-0163 §6). */
const FEATURES = [
  "access-open",
  "access-presence",
  "access-roster",
  "access-whitelist",
  "auto-create",
  // Contacts with a presence subscription get notifications without subscribing (XEP-0163 §4.3)...
  "auto-subscribe",
  "config-node",
  "config-node-max",
  "create-and-configure",
  "create-nodes",
  "delete-items",
  "delete-nodes",
  // ...filtered by the +notify features of their clients' entity capabilities.
  "filtered-notifications",
  "item-ids",
  "last-published",
  "member-affiliation",
  "modify-affiliations",
  "multi-items",
  "outcast-affiliation",
  "persistent-items",
  "presence-notifications",
  "publish",
  "publish-options",
  "purge-nodes",
  "retract-items",
  "retrieve-affiliations",
  "retrieve-default",
  "retrieve-items",
  "retrieve-subscriptions",
  "subscribe",
];

/**
 * Runs a pubsub request handler and answers: the result, or the error with its pubsub-specific condition (which
 * `ctx.iq` cannot carry).
 */
function pubsubIq(
  ctx: ModuleContext,
  type: "get" | "set",
  ns: string,
  handler: (ev: StanzaEvent, pubsub: XmlElement) => Promise<XmlElement | null>,
): void {
  ctx.on(`iq-${type}/bare/${ns}` as `iq-get/${string}`, async (ev) => {
    let reply: XmlElement | null;
    try {
      // RFC 6121 §8.5.1: an account that does not exist does not answer.
      if (ev.from.bareString !== ev.to.bareString && !(await ctx.storage.accounts.exists(ctx.host.name, ev.to.local))) {
        throw new StanzaError("cancel", "service-unavailable");
      }
      reply = iqResult(ev.stanza, await handler(ev, ev.stanza.firstElement() as XmlElement));
    } catch (err) {
      if (!(err instanceof StanzaError)) {
        ctx.log.error({ err, stanza: ev.stanza.toString() }, "pubsub request failed");
      }
      reply = pubsubErrorReply(
        ev.stanza,
        err instanceof StanzaError ? err : new StanzaError("cancel", "internal-server-error"),
      );
    }
    if (reply) await ctx.send(reply);
    return true;
  });
}

/**
 * XEP-0163 Personal Eventing Protocol: every account is a pubsub service (XEP-0060 subset) at its bare JID, with
 * XEP-0223 publish-options for private, persistent storage.
 */
export const pepModule: ModuleDefinition = {
  name: "pep",
  specs: [
    { spec: "XEP-0163", version: "1.2.2" },
    { spec: "XEP-0060", version: "1.26.0", note: "the subset PEP needs; no collections, no subscription options" },
    { spec: "XEP-0223", version: "1.1.1" },
  ],
  load(ctx) {
    const notifier = new Notifier(ctx, ctx.service("roster"), ctx.service("entityCaps"));
    const pep = new PepHost(ctx, notifier);
    const handlers = new PubsubHandlers(pep);

    for (const f of FEATURES) ctx.accountFeature(pubsubFeature(f));
    ctx.accountFeature(PUBSUB.main);

    pubsubIq(ctx, "get", PUBSUB.main, (ev, el) => handlers.get(ev, el));
    pubsubIq(ctx, "set", PUBSUB.main, (ev, el) => handlers.set(ev, el));
    pubsubIq(ctx, "get", PUBSUB.owner, (ev, el) => handlers.ownerGet(ev, el));
    pubsubIq(ctx, "set", PUBSUB.owner, (ev, el) => handlers.ownerSet(ev, el));

    const disco = ctx.service("disco");
    disco?.addAccountIdentity({ category: "pubsub", type: "pep" });
    // XEP-0163 §6.1 / XEP-0060 §5.2: the nodes the requester may see; with a node, its items (§5.5).
    disco?.addAccountItems(async ({ account, requester, node }) => {
      const checker = notifier.checker(account.local);
      if (node === undefined) {
        const out = [];
        for (const n of await pep.listNodes(account.local)) {
          if (await checker.allowed(n, requester)) out.push({ jid: account.bareString, node: n.node });
        }
        return out;
      }
      const n = await pep.getNode(account.local, node);
      if (!n || !(await checker.allowed(n, requester))) return null;
      const items = await pep.read(account.local, node);
      return items.map((it) => ({ jid: account.bareString, name: it.id }));
    });
    // XEP-0060 §5.4: a node's identity and meta-data.
    disco?.addAccountInfoNode(async ({ account, requester, node }) => {
      const n = await pep.getNode(account.local, node);
      if (!n || !(await notifier.checker(account.local).allowed(n, requester))) return null;
      const meta = dataForm("result", {
        formType: PUBSUB.metaData,
        fields: [
          { var: "pubsub#owner", type: "jid-multi", values: [account.bareString] },
          { var: "pubsub#access_model", type: "list-single", values: n.config["pubsub#access_model"] ?? ["presence"] },
          { var: "pubsub#title", type: "text-single", values: n.config["pubsub#title"] ?? [] },
          { var: "pubsub#type", type: "text-single", values: n.config["pubsub#type"] ?? [] },
        ],
      });
      return xml(
        "query",
        { xmlns: NS.discoInfo, node },
        xml("identity", { category: "pubsub", type: "leaf" }),
        xml("feature", { var: PUBSUB.main }),
        meta,
      );
    });

    ctx.on("entity-caps.available", async ({ account, jid, features }) => {
      const at = account.lastIndexOf("@");
      if (at < 0 || account.slice(at + 1) !== ctx.host.name) return;
      await pep.sendLastItems(account.slice(0, at), jid, features);
    });

    ctx.on("account.deleted", ({ username }) => pep.deleteAccount(username));

    // A notification that bounces (the subscriber's account is gone, it blocks us...) is ours to handle: the owner's
    // clients never see it, and an explicit subscription of the bouncing entity ends.
    ctx.on(
      "message/bare",
      async (ev) => {
        if (ev.stanza.attrs.type !== "error" || !ev.stanza.attrs.id?.startsWith(NOTIFICATION_ID_PREFIX)) return;
        await pep.dropSubscriber(ev.to.local, ev.from.toString());
        return true;
      },
      600,
    );

    ctx.provide("pep", {
      publish: (username, node, item, origin) =>
        pep.publish(username, node, { ...item, publisher: makeJid(username, ctx.host.name) }, origin),
      retract: async (username, node, id, origin) => {
        try {
          await pep.retract(username, node, id, undefined, origin);
          return true;
        } catch (err) {
          if (err instanceof StanzaError && err.condition === "item-not-found") return false;
          throw err;
        }
      },
      items: (username, node, query) => pep.read(username, node, query),
      itemsFor: async (username, node, requester, query) =>
        (await pep.items(username, node, requester, query)).items.map(toPepItem),
      hasNode: async (username, node) => (await pep.getNode(username, node)) !== null,
      addPolicy: (node, policy) => pep.addPolicy(node, policy),
    });
  },
};
