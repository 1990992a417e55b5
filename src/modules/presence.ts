import type { StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import type { C2sSession } from "../core/session.ts";
import { isSubscriptionType } from "../xmpp/subscription-states.ts";
import { PresenceBroadcast } from "./presence-broadcast.ts";
import { PresenceSubscriptions } from "./presence-subscription.ts";

declare module "../core/host.ts" {
  interface HostEvents {
    /**
     * A client session sent available broadcast presence, after it went out; `initial` for the first one of the
     * session (RFC 6121 §4.2). Offline messages and pending subscription requests are delivered on it.
     */
    "presence.available": { session: C2sSession; initial: boolean };
  }
}

/**
 * RFC 6121 presence: subscriptions (§3), broadcast and probes (§4), and the delivery of presence addressed to
 * local accounts (§8.5). Needs the roster module.
 */
export const presenceModule: ModuleDefinition = {
  name: "presence",
  specs: [{ spec: "RFC 6121", note: "§3 subscriptions incl. pre-approval, §4 presence" }],
  load(ctx) {
    const roster = ctx.service("roster");
    if (!roster) throw new Error("the presence module needs the roster module");
    const broadcast = new PresenceBroadcast(ctx, roster);
    const subscriptions = new PresenceSubscriptions(ctx, roster);

    ctx.on("pre-presence", (ev) => {
      const type = ev.stanza.attrs.type;
      return isSubscriptionType(type) ? subscriptions.outbound(ev, type) : broadcast.outbound(ev);
    });

    const inbound = (ev: StanzaEvent) => {
      const type = ev.stanza.attrs.type;
      // §8.5.3.1: subscription stanzas to a full JID are handled as if sent to the bare JID.
      if (isSubscriptionType(type)) return subscriptions.inbound(ev, type);
      if (type === "probe") return subscriptions.probe(ev);
      return broadcast.inbound(ev);
    };
    ctx.on("presence/bare", inbound);
    ctx.on("presence/full", inbound);

    ctx.on("presence.available", async ({ session, initial }) => {
      if (initial) await subscriptions.deliverPending(session);
    });
    ctx.on("c2s.session.closed", async ({ session }) => {
      await broadcast.closed(session);
    });
  },
};
