/**
 * Presence broadcast (RFC 6121 §4): initial, subsequent and unavailable presence from local clients, directed
 * presence, and delivery of available/unavailable presence addressed to local accounts.
 */
import type { OutgoingEvent, StanzaEvent } from "../core/host.ts";
import type { ModuleContext } from "../core/module.ts";
import type { C2sSession } from "../core/session.ts";
import { errorReply } from "../core/stanza.ts";
import { tryParseJid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { availableResources, parsePriority, readdress } from "./im/presence-util.ts";
import type { RosterService } from "./im/roster-service.ts";

/** Directed-presence recipients remembered per session; beyond this the oldest are not tracked. */
const MAX_DIRECTED = 1000;

function sendsFrom(sub: string): boolean {
  return sub === "from" || sub === "both";
}

function receivesFrom(sub: string): boolean {
  return sub === "to" || sub === "both";
}

export class PresenceBroadcast {
  /** RFC 6121 §4.6: entities a session sent directed available presence to, told when it goes unavailable. */
  private readonly directed = new WeakMap<C2sSession, Set<string>>();

  constructor(
    private readonly ctx: ModuleContext,
    private readonly roster: RosterService,
  ) {}

  /**
   * Presence a local client sends without a subscription type. Returns true when handled here (broadcast), or
   * undefined to let the stream route it (directed presence).
   */
  async outbound(ev: OutgoingEvent): Promise<true | undefined> {
    const type = ev.stanza.attrs.type;
    if (ev.to === null) {
      if (type === undefined) await this.available(ev.session, ev.stanza);
      else if (type === "unavailable") await this.unavailable(ev.session, ev.stanza);
      // Other types without 'to' (probe, error) address nobody: dropped.
      return true;
    }
    // §4.6.2: remember directed available presence so that unavailable presence reaches it later.
    const to = ev.to.toString();
    if (type === undefined) {
      let set = this.directed.get(ev.session);
      if (!set) {
        set = new Set();
        this.directed.set(ev.session, set);
      }
      if (set.size < MAX_DIRECTED) set.add(to);
    } else if (type === "unavailable") {
      this.directed.get(ev.session)?.delete(to);
    }
    return undefined;
  }

  /** §4.2.2 initial presence and §4.4.2 subsequent presence. */
  private async available(session: C2sSession, stanza: XmlElement): Promise<void> {
    const priority = parsePriority(stanza);
    if (priority === null) {
      const reply = errorReply(stanza, "modify", "bad-request", "<priority/> must be an integer from -128 to 127");
      if (reply) session.send(reply);
      return;
    }
    const initial = session.presence === null;
    const full = session.jid.toString();
    const me = session.jid.bare;
    const presence = stanza.clone();
    presence.attrs.from = full;
    delete presence.attrs.to;
    session.presence = presence;
    session.priority = priority;

    const items = (await this.roster.get(session.username)).items;
    for (const item of items) {
      if (sendsFrom(item.subscription)) await this.ctx.send(readdress(presence, full, item.jid));
    }
    // §4.2.2: also to all of the user's available resources, including the one that sent it.
    for (const s of availableResources(this.ctx, me)) s.send(readdress(presence, full, me.toString()));

    if (initial) {
      // §4.2.2 / §4.3.1: probe the contacts whose presence the user receives.
      for (const item of items) {
        if (receivesFrom(item.subscription)) {
          await this.ctx.send(xml("presence", { type: "probe", from: me.toString(), to: item.jid }));
        }
      }
      // The user is subscribed to itself: the new resource learns about the other available ones.
      for (const s of availableResources(this.ctx, me)) {
        if (s !== session && s.presence) session.send(readdress(s.presence, s.jid.toString(), me.toString()));
      }
    }
    await this.ctx.host.events.fire("presence.available", { session, initial });
  }

  /** §4.5.2 unavailable presence, also generated when a session ends without sending it (§4.5.4). */
  private async unavailable(session: C2sSession, stanza: XmlElement, closing = false): Promise<void> {
    const full = session.jid.toString();
    const me = session.jid.bare;
    const presence = stanza.clone();
    presence.attrs.from = full;
    delete presence.attrs.to;
    const told = new Set<string>();

    if (session.presence !== null) {
      // A closed session keeps its last presence for close handlers that read it (last activity).
      if (!closing) {
        session.presence = null;
        session.priority = 0;
      }
      const items = (await this.roster.get(session.username)).items;
      if (!this.replaced(session)) {
        for (const item of items) {
          if (!sendsFrom(item.subscription)) continue;
          told.add(item.jid);
          await this.ctx.send(readdress(presence, full, item.jid));
        }
        for (const s of availableResources(this.ctx, me)) {
          if (s !== session) s.send(readdress(presence, full, me.toString()));
        }
      }
    }
    // §4.6.3: entities that got directed presence learn that the resource went away too.
    const directed = this.directed.get(session);
    if (directed) {
      const targets = [...directed];
      directed.clear();
      for (const to of targets) {
        if (!told.has(tryParseJid(to)?.bareString ?? to)) await this.ctx.send(readdress(presence, full, to));
      }
    }
  }

  /** A session that ended without unavailable presence (RFC 6121 §4.5.4). */
  async closed(session: C2sSession): Promise<void> {
    if (session.presence === null && !this.directed.get(session)?.size) return;
    await this.unavailable(session, xml("presence", { type: "unavailable" }), true);
  }

  /**
   * True when a new session took over this full JID and already sent presence (a reconnect that replaced the
   * old stream): the old session's unavailable presence would wrongly hide the new one.
   */
  private replaced(session: C2sSession): boolean {
    const current = this.ctx.sessions.get(session.jid);
    return current !== undefined && current !== session && current.presence !== null;
  }

  /**
   * Available, unavailable and error presence for a local account (RFC 6121 §8.5.2.1.2, §8.5.3): to a bare JID it
   * goes to every available resource; to a full JID, to that resource if it is connected, else it is dropped.
   */
  inbound(ev: StanzaEvent): true {
    if (ev.to.resource !== "") {
      this.ctx.sessions.get(ev.to)?.send(ev.stanza);
      return true;
    }
    availableResources(this.ctx, ev.to).forEach((s, i) => {
      s.send(i === 0 ? ev.stanza : ev.stanza.clone());
    });
    return true;
  }
}
