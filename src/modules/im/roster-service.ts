/**
 * The roster of every account of one host, as other modules use it: items, subscription states, pushes.
 *
 * Inbound subscription requests from contacts that are not in the roster are kept outside it, in the key-value
 * store: RFC 6121 §3.1.3 says the server SHOULD NOT push or return an item in the "None + Pending In" state until
 * the user approves, and keeping such requests apart means a roster item always is something the user (or an
 * approval) created.
 */
import { randomBytes } from "node:crypto";
import type { SessionManager } from "../../core/sessions.ts";
import type { Roster, RosterItem, Storage } from "../../storage/types.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { fieldsOf, hasFrom, type SubState, stateOf, type Transition } from "../../xmpp/subscription-states.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { itemElement, removedItemElement, sameForClient } from "./roster-items.ts";

/** Key-value store holding requests from contacts not in the roster: key = contact bare JID, value = the stanza. */
const PENDING_STORE = "roster-pending-in";

/** Everything known about one contact of one account. */
export interface ContactState {
  contact: string;
  /** The roster item, if the account has one for the contact. */
  item: RosterItem | null;
  state: SubState;
  approved: boolean;
  /** The stored inbound request (serialized stanza) while one is pending. */
  request: string | null;
}

/** The `roster` service other modules use (blocking, PEP, MUC invitations, last activity...). */
export interface RosterService {
  /** The roster as clients see it. */
  get(username: string): Promise<Roster>;
  getItem(username: string, contact: string): Promise<RosterItem | null>;
  /** Stores an item as given and pushes it to the account's interested resources. */
  setItem(username: string, item: RosterItem): Promise<void>;
  /** A roster set: sets name and groups, keeps the subscription state, pushes. Returns the stored item. */
  setNameAndGroups(username: string, contact: string, name: string | null, groups: string[]): Promise<RosterItem>;
  /** Removes an item and pushes the removal; null if there was none. Sends no presence (roster.ts does). */
  removeItem(username: string, contact: string): Promise<RosterItem | null>;
  /** The contact receives the account's presence ("from" or "both"). */
  isSubscribedFrom(username: string, contact: string): Promise<boolean>;
  /** The account receives the contact's presence ("to" or "both"). */
  isSubscribedTo(username: string, contact: string): Promise<boolean>;
  /** The subscription state of one contact, including a request from a contact not in the roster. */
  contactState(username: string, contact: string): Promise<ContactState>;
  /**
   * Applies one subscription transition atomically: `decide` sees the current state, the result is stored and
   * pushed. `request` is the inbound request to keep while the new state is pending-in.
   */
  transition(
    username: string,
    contact: string,
    decide: (s: ContactState) => Transition,
    request?: string,
  ): Promise<Transition>;
  /** Inbound subscription requests the account has not answered, as stored stanzas (RFC 6121 §3.1.3). */
  pendingRequests(username: string): Promise<string[]>;
  /** Removes all of an account's roster data. */
  deleteUser(username: string): Promise<void>;
}

function newItem(jid: string): RosterItem {
  return {
    jid,
    name: null,
    subscription: "none",
    askOut: false,
    askIn: false,
    approved: false,
    groups: [],
    pendingInStanza: null,
  };
}

export class HostRoster implements RosterService {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly host: string,
    private readonly storage: Storage,
    private readonly sessions: SessionManager,
  ) {}

  get(username: string): Promise<Roster> {
    return this.storage.roster.get(this.host, username);
  }

  getItem(username: string, contact: string): Promise<RosterItem | null> {
    return this.storage.roster.getItem(this.host, username, contact);
  }

  setItem(username: string, item: RosterItem): Promise<void> {
    return this.lock.run(username, async () => {
      const version = await this.storage.roster.setItem(this.host, username, item);
      this.push(username, itemElement(item), version);
    });
  }

  setNameAndGroups(username: string, contact: string, name: string | null, groups: string[]): Promise<RosterItem> {
    return this.lock.run(username, async () => {
      const cs = await this.load(username, contact);
      // A pending request from a contact the user now adds moves into the new item.
      const base = cs.item ?? { ...newItem(contact), ...fieldsOf(cs.state), pendingInStanza: cs.request };
      const item = { ...base, name, groups };
      const version = await this.storage.roster.setItem(this.host, username, item);
      if (!cs.item && cs.request) await this.storage.kv.delete(this.host, username, PENDING_STORE, contact);
      this.push(username, itemElement(item), version);
      return item;
    });
  }

  removeItem(username: string, contact: string): Promise<RosterItem | null> {
    return this.lock.run(username, async () => {
      const item = await this.storage.roster.getItem(this.host, username, contact);
      if (!item) return null;
      const version = await this.storage.roster.removeItem(this.host, username, contact);
      if (version !== null) this.push(username, removedItemElement(contact), version);
      return item;
    });
  }

  async isSubscribedFrom(username: string, contact: string): Promise<boolean> {
    const item = await this.getItem(username, contact);
    return item !== null && (item.subscription === "from" || item.subscription === "both");
  }

  async isSubscribedTo(username: string, contact: string): Promise<boolean> {
    const item = await this.getItem(username, contact);
    return item !== null && (item.subscription === "to" || item.subscription === "both");
  }

  contactState(username: string, contact: string): Promise<ContactState> {
    return this.load(username, contact);
  }

  transition(
    username: string,
    contact: string,
    decide: (s: ContactState) => Transition,
    request?: string,
  ): Promise<Transition> {
    return this.lock.run(username, async () => {
      const cs = await this.load(username, contact);
      const t = decide(cs);
      await this.save(username, cs, t, request ?? null);
      return t;
    });
  }

  async pendingRequests(username: string): Promise<string[]> {
    const out: string[] = [];
    for (const item of (await this.get(username)).items) {
      if (item.askIn && item.pendingInStanza && !hasFrom(stateOf(item))) out.push(item.pendingInStanza);
    }
    for (const key of await this.storage.kv.keys(this.host, username, PENDING_STORE)) {
      const stanza = await this.storage.kv.get(this.host, username, PENDING_STORE, key);
      if (stanza) out.push(stanza);
    }
    return out;
  }

  async deleteUser(username: string): Promise<void> {
    await this.lock.run(username, async () => {
      await this.storage.roster.deleteUser(this.host, username);
      for (const key of await this.storage.kv.keys(this.host, username, PENDING_STORE)) {
        await this.storage.kv.delete(this.host, username, PENDING_STORE, key);
      }
    });
  }

  private async load(username: string, contact: string): Promise<ContactState> {
    const item = await this.storage.roster.getItem(this.host, username, contact);
    if (item) {
      return { contact, item, state: stateOf(item), approved: item.approved, request: item.pendingInStanza };
    }
    const request = await this.storage.kv.get(this.host, username, PENDING_STORE, contact);
    return { contact, item: null, state: request ? "None + Pending In" : "None", approved: false, request };
  }

  private async save(username: string, cs: ContactState, t: Transition, request: string | null): Promise<void> {
    const f = fieldsOf(t.next);
    const pending = f.askIn ? (request ?? cs.request) : null;
    const needsItem = cs.item !== null || f.subscription !== "none" || f.askOut || t.approved;
    if (!needsItem) {
      // Only a request from a contact outside the roster (or nothing at all) is left.
      if (pending && pending !== cs.request) {
        await this.storage.kv.set(this.host, username, PENDING_STORE, cs.contact, pending);
      } else if (!pending && cs.request) {
        await this.storage.kv.delete(this.host, username, PENDING_STORE, cs.contact);
      }
      return;
    }
    const before = cs.item ?? newItem(cs.contact);
    const item: RosterItem = { ...before, ...f, approved: t.approved, pendingInStanza: pending };
    const unchanged =
      cs.item !== null &&
      sameForClient(cs.item, item) &&
      cs.item.askIn === item.askIn &&
      cs.item.pendingInStanza === item.pendingInStanza;
    if (unchanged) return;
    const version = await this.storage.roster.setItem(this.host, username, item);
    if (!cs.item && cs.request) await this.storage.kv.delete(this.host, username, PENDING_STORE, cs.contact);
    // RFC 6121 §3.1.3: a pending-in change alone is invisible to clients, so it is not pushed.
    if (!cs.item || !sameForClient(cs.item, item)) this.push(username, itemElement(item), version);
  }

  /** Sends a roster push to every interested resource of the account (RFC 6121 §2.1.6). */
  push(username: string, item: XmlElement, version: string): void {
    for (const s of this.sessions.resources(`${username}@${this.host}`)) {
      if (!s.interested) continue;
      s.send(
        xml(
          "iq",
          { type: "set", id: `push-${randomBytes(6).toString("hex")}`, to: s.jid.toString() },
          xml("query", { xmlns: NS.roster, ver: version }, item.clone()),
        ),
      );
    }
  }
}
