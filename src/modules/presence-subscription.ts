/**
 * Presence subscriptions (RFC 6121 §3) and probes (§4.3): the state machine of Appendix A applied to the
 * subscription stanzas local clients send and to those arriving for local accounts.
 */
import type { OutgoingEvent, StanzaEvent } from "../core/host.ts";
import type { ModuleContext } from "../core/module.ts";
import type { C2sSession } from "../core/session.ts";
import { delayElement } from "../core/stanza.ts";
import type { Jid } from "../jid/jid.ts";
import { xml } from "../xml/element.ts";
import { hasFrom, inbound, outbound, type SubscriptionType, type Transition } from "../xmpp/subscription-states.ts";
import { availableResources, readdress, sendPresenceOf, sendUnavailableOf } from "./im/presence-util.ts";
import type { RosterService } from "./im/roster-service.ts";
import { parseStoredStanza } from "./im/stored-stanza.ts";

export class PresenceSubscriptions {
  constructor(
    private readonly ctx: ModuleContext,
    private readonly roster: RosterService,
  ) {}

  /** A subscription stanza from a local client (§3.1.2, §3.2.2, §3.3.2, §3.4.1; Appendix A.2). */
  async outbound(ev: OutgoingEvent, type: SubscriptionType): Promise<true> {
    if (ev.to === null) return true; // Addressed to nobody: dropped.
    const me = ev.from.bare;
    const contact = ev.to.bare;
    // The user's subscription to itself is implicit (§4.2.2); such stanzas change nothing.
    if (contact.equals(me)) return true;
    // §3.1.2: the server stamps the user's bare JID and addresses the contact's bare JID.
    const stanza = readdress(ev.stanza, me.toString(), contact.toString());
    const t = await this.roster.transition(ev.session.username, contact.toString(), (cs) =>
      outbound(cs.state, cs.approved, type),
    );
    if (!t.forward) return true;
    await this.ctx.send(stanza);
    await this.presenceAfter(t, me, contact.toString());
    return true;
  }

  /** A subscription stanza arriving for a local account (§3.1.3, §3.2.3, §3.3.3, §3.4.2; Appendix A.3). */
  async inbound(ev: StanzaEvent, type: SubscriptionType): Promise<true> {
    const user = ev.to.bare;
    const contact = ev.from.bare.toString();
    if (contact === user.toString()) return true;
    if (!(await this.ctx.storage.accounts.exists(this.ctx.host.name, user.local))) {
      // §8.5.1: a request to a missing account may be answered with "unsubscribed"; the others are ignored.
      if (type === "subscribe") await this.reply(user, contact, "unsubscribed");
      return true;
    }
    // Delivered (and stored while pending) from the contact's bare JID to the user's bare JID.
    const stanza = readdress(ev.stanza, contact, user.toString());
    const t = await this.roster.transition(
      user.local,
      contact,
      (cs) => inbound(cs.state, cs.approved, type),
      type === "subscribe" ? stanza.toString() : undefined,
    );
    if (t.autoReply) {
      await this.reply(user, contact, "subscribed");
      await sendPresenceOf(this.ctx, user, contact); // §3.1.5: an approval is followed by presence.
    } else {
      await this.presenceAfter(t, user, contact);
    }
    // §3.1.3: a request is delivered to every available resource (and kept for the next login, see below).
    if (t.forward) {
      for (const s of availableResources(this.ctx, user)) s.send(stanza.clone());
    }
    return true;
  }

  /** §4.3.2: a probe for a local account is answered with the presence of its available resources. */
  async probe(ev: StanzaEvent): Promise<true> {
    const user = ev.to.bare;
    const account = await this.ctx.storage.accounts.get(this.ctx.host.name, user.local);
    const prober = ev.from;
    const authorized =
      account !== null &&
      (prober.bare.equals(user) || (await this.roster.isSubscribedFrom(user.local, prober.bareString)));
    if (!account || !authorized) {
      // §4.3.2 (and §8.5.1 for a missing account): "unsubscribed", which never cancels a pre-approval.
      await this.reply(user, prober.bareString, "unsubscribed");
      return true;
    }
    const to = prober.toString();
    const available = availableResources(this.ctx, user);
    for (const s of available) {
      if (s.presence) await this.ctx.send(readdress(s.presence, s.jid.toString(), to));
    }
    if (available.length === 0) {
      // §4.3.2: no available resource: unavailable presence; once every session is gone, with the time and
      // status of the last logout (the account's last-seen record is a login time while a session is bound).
      const loggedOut = !this.ctx.sessions.isOnline(user) && account.lastSeen !== null;
      await this.ctx.send(
        xml(
          "presence",
          { type: "unavailable", from: user.toString(), to },
          loggedOut && account.lastStatus ? xml("status", null, account.lastStatus) : undefined,
          loggedOut ? delayElement(user.toString(), new Date(account.lastSeen as number)) : undefined,
        ),
      );
    }
    return true;
  }

  /** §3.1.3: requests the user has not answered are delivered again when a resource becomes available. */
  async deliverPending(session: C2sSession): Promise<void> {
    for (const serialized of await this.roster.pendingRequests(session.username)) {
      const stanza = parseStoredStanza(serialized);
      if (stanza) session.send(stanza);
      else this.ctx.log.warn({ user: session.username }, "dropping a damaged stored subscription request");
    }
  }

  /**
   * Presence that follows a change of the contact's subscription to the user: an approval is followed by the
   * user's current presence (§3.1.5), the end of it by unavailable presence (§3.2.2, §3.3.3).
   */
  private async presenceAfter(t: Transition, user: Jid, contact: string): Promise<void> {
    if (!hasFrom(t.before) && hasFrom(t.next)) await sendPresenceOf(this.ctx, user, contact);
    else if (hasFrom(t.before) && !hasFrom(t.next)) await sendUnavailableOf(this.ctx, user, contact);
  }

  private reply(user: Jid, contact: string, type: "subscribed" | "unsubscribed"): Promise<void> {
    return this.ctx.send(xml("presence", { type, from: user.toString(), to: contact }));
  }
}
