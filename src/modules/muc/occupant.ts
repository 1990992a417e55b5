import { createHmac } from "node:crypto";
import type { XmlElement } from "../../xml/element.ts";
import { TokenBucket } from "./rate-limit.ts";
import type { Role } from "./roles.ts";

/**
 * XEP-0421 occupant id: stable for one real bare JID in one room, and revealing nothing about it without the
 * room's secret.
 */
export function occupantIdFor(secret: string, bareJid: string): string {
  return createHmac("sha256", secret).update(bareJid).digest("base64url").slice(0, 24);
}

/**
 * Someone in a room under one nickname. XEP-0045 lets one user enter with several devices under the same nick
 * (§7.2.9: a nick already in use by the same bare JID is a second "session", not a conflict): each joined full JID is a session here, all of them get
 * every stanza addressed to the occupant, and the room shows the presence of the most recently active one.
 */
export class Occupant {
  /** Joined sessions: real full JID → the presence it last sent to the room (cleaned of MUC payloads). */
  readonly sessions = new Map<string, XmlElement>();
  /** The session whose presence the room shows. */
  primary: string;
  readonly bucket: TokenBucket;
  /**
   * Sessions still receiving their join sequence (presence, history, subject): live messages skip them until
   * it is done, so that nothing overtakes the subject that ends the history (§7.2.14, §7.2.16).
   */
  readonly joining = new Set<string>();

  constructor(
    public nick: string,
    readonly bare: string,
    public role: Role,
    readonly id: string,
    first: { jid: string; presence: XmlElement },
    rate: { perSecond: number; burst: number },
  ) {
    this.sessions.set(first.jid, first.presence);
    this.primary = first.jid;
    this.bucket = new TokenBucket(rate.perSecond, rate.burst);
  }

  /** The presence shown for the occupant. */
  get presence(): XmlElement {
    return this.sessions.get(this.primary) as XmlElement;
  }

  setSession(jid: string, presence: XmlElement): void {
    this.sessions.set(jid, presence);
    this.primary = jid;
  }

  /** Removes a session; returns whether sessions remain. */
  removeSession(jid: string): boolean {
    this.sessions.delete(jid);
    if (this.primary === jid) {
      const last = [...this.sessions.keys()].pop();
      if (last !== undefined) this.primary = last;
    }
    return this.sessions.size > 0;
  }
}
