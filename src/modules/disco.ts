import { StanzaError } from "../core/errors.ts";
import type { DiscoIdentity, DiscoItem, Host, StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import type { Jid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/**
 * Computes a host's disco#info payload on demand, so that features registered by modules loaded after
 * this one are included.
 */
export function hostInfo(host: Host, node?: string): XmlElement {
  const query = xml("query", { xmlns: NS.discoInfo, node });
  const identities = host.disco.identities.length
    ? host.disco.identities
    : [{ category: "server", type: "im", name: "Hearth" }];
  for (const id of identities) query.append(xml("identity", { category: id.category, type: id.type, name: id.name }));
  const features = new Set([NS.discoInfo, NS.discoItems, ...host.disco.features]);
  for (const f of [...features].sort()) query.append(xml("feature", { var: f }));
  for (const form of host.disco.extensions) query.append(form.clone());
  return query;
}

/** Resolves the `node` of a disco#info request; modules (caps) may claim extra node names. */
export type NodeResolver = (node: string) => boolean;

/** A disco request to an account's bare JID, as account item and node providers see it. */
export interface AccountDiscoRequest {
  /** The account's bare JID (it exists). */
  account: Jid;
  requester: Jid;
  node: string | undefined;
}

/**
 * Lists items of an account (XEP-0030 §4), e.g. PEP nodes. Returns null when it has nothing to say about this
 * node, so that another provider may answer; with a node, the first non-null answer wins.
 */
export type AccountItemsProvider = (req: AccountDiscoRequest) => Promise<DiscoItem[] | null>;

/** Answers disco#info on a node of an account (e.g. a PEP node, XEP-0060 §5.4); null if not its node. */
export type AccountInfoProvider = (req: AccountDiscoRequest & { node: string }) => Promise<XmlElement | null>;

declare module "../core/module.ts" {
  interface HostServices {
    disco: {
      /** Lets a module say that disco#info on `node` answers with the host's info (XEP-0115 caps nodes). */
      addInfoNode(resolver: NodeResolver): void;
      /** The host's disco#info query element. */
      info(node?: string): XmlElement;
      /** Adds an identity to every account's disco#info (e.g. `pubsub/pep` for XEP-0163). */
      addAccountIdentity(identity: DiscoIdentity): void;
      /** Adds items to disco#items on accounts (e.g. PEP nodes). */
      addAccountItems(provider: AccountItemsProvider): void;
      /** Answers disco#info on account nodes. */
      addAccountInfoNode(provider: AccountInfoProvider): void;
    };
  }
}

/** XEP-0030 Service Discovery for the host and for accounts' bare JIDs. */
export const discoModule: ModuleDefinition = {
  name: "disco",
  specs: [{ spec: "XEP-0030", version: "2.5rc3" }],
  load(ctx) {
    const nodeResolvers: NodeResolver[] = [];
    const accountIdentities: DiscoIdentity[] = [{ category: "account", type: "registered" }];
    const accountItems: AccountItemsProvider[] = [];
    const accountInfoNodes: AccountInfoProvider[] = [];
    ctx.identity({ category: "server", type: "im", name: "Hearth" });
    ctx.provide("disco", {
      addInfoNode: (r) => nodeResolvers.push(r),
      info: (node) => hostInfo(ctx.host, node),
      addAccountIdentity: (identity) => accountIdentities.push(identity),
      addAccountItems: (provider) => accountItems.push(provider),
      addAccountInfoNode: (provider) => accountInfoNodes.push(provider),
    });

    ctx.iq("get", NS.discoInfo, (ev) => {
      const node = ev.stanza.firstElement()?.attrs.node;
      if (node !== undefined && !nodeResolvers.some((r) => r(node))) throw new StanzaError("cancel", "item-not-found");
      return hostInfo(ctx.host, node);
    });

    ctx.iq("get", NS.discoItems, (ev) => {
      const node = ev.stanza.firstElement()?.attrs.node;
      if (node !== undefined) throw new StanzaError("cancel", "item-not-found");
      const query = xml("query", { xmlns: NS.discoItems });
      for (const item of ctx.host.disco.items)
        query.append(xml("item", { jid: item.jid, node: item.node, name: item.name }));
      return query;
    });

    // XEP-0030 on an account: identity account/registered and the features modules offer per account.
    const accountInfo = async (ev: StanzaEvent): Promise<XmlElement> => {
      const node = ev.stanza.firstElement()?.attrs.node;
      if (!(await ctx.storage.accounts.exists(ctx.host.name, ev.to.local))) {
        throw new StanzaError("cancel", "service-unavailable");
      }
      if (node !== undefined) {
        const req = { account: ev.to.bare, requester: ev.from, node };
        for (const provider of accountInfoNodes) {
          const answer = await provider(req);
          if (answer) return answer;
        }
        throw new StanzaError("cancel", "item-not-found");
      }
      const query = xml("query", { xmlns: NS.discoInfo });
      for (const id of accountIdentities) {
        query.append(xml("identity", { category: id.category, type: id.type, name: id.name }));
      }
      const features = new Set([NS.discoInfo, NS.discoItems, ...ctx.host.disco.accountFeatures]);
      for (const f of [...features].sort()) query.append(xml("feature", { var: f }));
      return query;
    };
    ctx.iq("get", NS.discoInfo, accountInfo, "bare");
    ctx.iq(
      "get",
      NS.discoItems,
      async (ev) => {
        if (!(await ctx.storage.accounts.exists(ctx.host.name, ev.to.local))) {
          throw new StanzaError("cancel", "service-unavailable");
        }
        const node = ev.stanza.firstElement()?.attrs.node;
        const query = xml("query", { xmlns: NS.discoItems, node });
        const req = { account: ev.to.bare, requester: ev.from, node };
        let answered = node === undefined;
        for (const provider of accountItems) {
          const items = await provider(req);
          if (!items) continue;
          answered = true;
          for (const item of items) query.append(xml("item", { jid: item.jid, node: item.node, name: item.name }));
          if (node !== undefined) break;
        }
        if (!answered) throw new StanzaError("cancel", "item-not-found");
        return query;
      },
      "bare",
    );
  },
};
