/**
 * A room's state (XEP-0045): configuration, affiliations, occupants, subject, history. No I/O here: the
 * service (service.ts) persists and delivers; handlers decide with these queries and then mutate.
 */
import type { MucStoredAffiliation } from "../../storage/muc.ts";
import type { RoomConfig } from "./config.ts";
import { RoomHistory } from "./history.ts";
import { type Occupant, occupantIdFor } from "./occupant.ts";
import type { Affiliation } from "./roles.ts";

export interface AffiliationEntry {
  affiliation: MucStoredAffiliation;
  /** Reserved nickname (§7.10, §9.3). */
  nick: string | null;
  reason: string | null;
}

export interface Subject {
  text: string;
  /** Nick of whoever set it; null when none was set or the room itself set it. */
  by: string | null;
  at: number | null;
}

export class Room {
  /** Bare room JID, `name@service`. */
  readonly jid: string;
  /** Long-lived affiliations by bare JID (or bare domain); "none" is the absence of an entry. */
  readonly affiliations = new Map<string, AffiliationEntry>();
  /** Occupants by nick. */
  readonly occupants = new Map<string, Occupant>();
  /** Occupants by the real full JID of each of their joined sessions. */
  readonly sessions = new Map<string, Occupant>();
  subject: Subject = { text: "", by: null, at: null };
  /** A newly created room stays locked until its owner configures it (§10.1.1). */
  locked = false;
  readonly history: RoomHistory;
  /** The room's vCard (XEP-0054), serialized, for room avatars; null when unset. */
  avatar: string | null = null;
  /** Set once destroyed, so that handlers still holding it stop using it. */
  destroyed = false;
  /** Invitations the room passed on (§7.8.2), so that only a real invitee's decline is relayed (§7.8.3). */
  readonly invitations = new RelayedInvitations();

  constructor(
    readonly name: string,
    readonly service: string,
    public config: RoomConfig,
    /** Key for XEP-0421 occupant ids, kept with the room so ids survive restarts. */
    readonly secret: string,
    readonly createdAt: number,
    /** Service administrators: owners of every room. */
    private readonly serviceAdmins: ReadonlySet<string>,
  ) {
    this.jid = `${name}@${service}`;
    this.history = new RoomHistory(config.historyLength);
  }

  /** The affiliation of a real bare JID (§5.2), a ban of its whole domain included. */
  affiliationOf(bare: string): Affiliation {
    if (this.serviceAdmins.has(bare)) return "owner";
    const own = this.affiliations.get(bare);
    if (own) return own.affiliation;
    const at = bare.indexOf("@");
    if (at >= 0 && this.affiliations.get(bare.slice(at + 1))?.affiliation === "outcast") return "outcast";
    return "none";
  }

  /** Bare JIDs with a stored affiliation of this kind. */
  withAffiliation(affiliation: MucStoredAffiliation): string[] {
    const out: string[] = [];
    for (const [jid, e] of this.affiliations) if (e.affiliation === affiliation) out.push(jid);
    return out.sort();
  }

  /** The bare JID that reserved a nick (§7.12), if any. */
  nickReservedBy(nick: string): string | undefined {
    for (const [jid, e] of this.affiliations) if (e.nick === nick && e.affiliation !== "outcast") return jid;
    return undefined;
  }

  reservedNick(bare: string): string | null {
    return this.affiliations.get(bare)?.nick ?? null;
  }

  /** The occupants a real bare JID is present as (usually one). */
  occupantsOf(bare: string): Occupant[] {
    const out: Occupant[] = [];
    for (const o of this.occupants.values()) if (o.bare === bare) out.push(o);
    return out;
  }

  /** Whether `viewer` may see occupants' real JIDs (§4.1: semi-anonymous rooms show them to moderators only). */
  showsJidsTo(viewer: Occupant): boolean {
    return this.config.whois === "anyone" || viewer.role === "moderator";
  }

  nickJid(nick: string): string {
    return `${this.jid}/${nick}`;
  }

  occupantId(bare: string): string {
    return occupantIdFor(this.secret, bare);
  }

  /** Persistent and configured: lives in storage. */
  get stored(): boolean {
    return this.config.persistent && !this.locked;
  }

  /** Listed in disco#items (§6.3): public and configured. */
  get listed(): boolean {
    return this.config.public && !this.locked;
  }
}

/**
 * The invitations a room relayed recently: invitee bare JID → inviter bare JIDs. Kept in memory and
 * bounded, because its only use is to refuse declines nobody asked for (which would make the room a relay
 * for messages to arbitrary addresses).
 */
export class RelayedInvitations {
  static readonly MAX = 1000;
  static readonly TTL_MS = 7 * 24 * 3600_000;
  private readonly byInvitee = new Map<string, Map<string, number>>();

  add(invitee: string, inviter: string, now = Date.now()): void {
    let inviters = this.byInvitee.get(invitee);
    if (!inviters) {
      if (this.byInvitee.size >= RelayedInvitations.MAX) {
        const oldest = this.byInvitee.keys().next().value;
        if (oldest !== undefined) this.byInvitee.delete(oldest);
      }
      inviters = new Map();
      this.byInvitee.set(invitee, inviters);
    }
    inviters.set(inviter, now);
  }

  /** Removes and reports whether `invitee` had a live invitation from `inviter`. */
  take(invitee: string, inviter: string, now = Date.now()): boolean {
    const inviters = this.byInvitee.get(invitee);
    const at = inviters?.get(inviter);
    if (!inviters || at === undefined) return false;
    inviters.delete(inviter);
    if (inviters.size === 0) this.byInvitee.delete(invitee);
    return now - at <= RelayedInvitations.TTL_MS;
  }
}
