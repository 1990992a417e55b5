/**
 * Storage interfaces, one per kind of data. Every method is async so that a networked backend
 * (PostgreSQL) can implement the same interface as the embedded SQLite one. Usernames passed here are
 * already normalized (PRECIS UsernameCaseMapped) and hosts are normalized domains.
 */

import type { ArchiveStore } from "./archive.ts";
import type { InviteStore } from "./invites.ts";
import type { MucStore } from "./muc.ts";
import type { PubsubStore } from "./pubsub.ts";
import type { UploadStore } from "./uploads.ts";

/** SCRAM salted credentials for one hash function (RFC 5802). Binary values are base64. */
export interface ScramRecord {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export type ScramHash = "SHA-1" | "SHA-256" | "SHA-512";

/** Everything stored for an account's password: one SCRAM record per supported hash. Never the password. */
export type AccountCredentials = Partial<Record<ScramHash, ScramRecord>>;

export interface Account {
  /** Stable identifier that survives renames and is never reused. */
  uuid: string;
  username: string;
  host: string;
  credentials: AccountCredentials;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch of the last logout or login; null if never seen. */
  lastSeen: number | null;
  /** Status text of the last unavailable presence (XEP-0012 last activity), if any. */
  lastStatus: string | null;
}

export interface AccountStore {
  /** Creates an account. Rejects with `AlreadyExistsError` if it exists. */
  create(host: string, username: string, credentials: AccountCredentials): Promise<Account>;
  get(host: string, username: string): Promise<Account | null>;
  exists(host: string, username: string): Promise<boolean>;
  setCredentials(host: string, username: string, credentials: AccountCredentials): Promise<boolean>;
  setLastSeen(host: string, username: string, when: number, status: string | null): Promise<void>;
  /** Deletes the account and returns whether it existed. Other stores' data is removed by their owners. */
  delete(host: string, username: string): Promise<boolean>;
  /** All accounts of a host, ordered by username. */
  list(host: string): Promise<Account[]>;
  count(host: string): Promise<number>;
}

/** RFC 6121 subscription states (§A / the `subscription` attribute), plus pending flags. */
export type Subscription = "none" | "to" | "from" | "both";

export interface RosterItem {
  /** Bare JID of the contact, normalized. */
  jid: string;
  name: string | null;
  subscription: Subscription;
  /** We asked to subscribe to the contact and they have not answered (`ask="subscribe"`). */
  askOut: boolean;
  /** The contact asked to subscribe to us and the user has not answered (not shown to clients as an attribute). */
  askIn: boolean;
  /** The user pre-approved the contact's future subscription request (RFC 6121 §3.4). */
  approved: boolean;
  groups: string[];
  /** The stanza of a pending inbound subscription request, kept to redeliver on next login (serialized XML). */
  pendingInStanza: string | null;
}

export interface Roster {
  /** Opaque version string for XEP-0237; changes whenever any item changes. */
  version: string;
  items: RosterItem[];
}

export interface RosterStore {
  get(host: string, username: string): Promise<Roster>;
  getItem(host: string, username: string, contact: string): Promise<RosterItem | null>;
  /** Inserts or replaces an item and bumps the roster version; returns the new version. */
  setItem(host: string, username: string, item: RosterItem): Promise<string>;
  /** Removes an item and bumps the version; returns the new version, or null if there was no such item. */
  removeItem(host: string, username: string, contact: string): Promise<string | null>;
  /** Removes a user's whole roster (account deletion). */
  deleteUser(host: string, username: string): Promise<void>;
}

export interface OfflineMessage {
  id: number;
  /** Serialized stanza as it should be delivered (already stamped with XEP-0203 delay). */
  stanza: string;
  /** Milliseconds since the epoch. */
  storedAt: number;
}

export interface OfflineStore {
  push(host: string, username: string, stanza: string, storedAt: number): Promise<void>;
  count(host: string, username: string): Promise<number>;
  /** Messages in arrival order, without removing them. */
  peek(host: string, username: string): Promise<OfflineMessage[]>;
  /** Removes the given messages (after they were handed to a session). */
  remove(host: string, username: string, ids: number[]): Promise<void>;
  deleteUser(host: string, username: string): Promise<void>;
}

/**
 * Small per-user documents keyed by (store, key): private XML storage, vcard-temp, preferences.
 * Values are strings (usually serialized XML or JSON) owned by the module that named the store.
 */
export interface KeyValueStore {
  get(host: string, username: string, store: string, key: string): Promise<string | null>;
  set(host: string, username: string, store: string, key: string, value: string): Promise<void>;
  delete(host: string, username: string, store: string, key: string): Promise<boolean>;
  /** Every key of one store for a user. */
  keys(host: string, username: string, store: string): Promise<string[]>;
  /** Removes all of a user's documents in every store (account deletion). */
  deleteUser(host: string, username: string): Promise<void>;
}

/** The whole storage backend. */
export interface Storage {
  readonly kind: string;
  readonly accounts: AccountStore;
  readonly roster: RosterStore;
  readonly offline: OfflineStore;
  readonly kv: KeyValueStore;
  /** Pubsub nodes and items (PEP and pubsub services). */
  readonly pubsub: PubsubStore;
  /** Message archives of accounts and rooms (XEP-0313). */
  readonly archive: ArchiveStore;
  /** Persistent Multi-User Chat rooms and their affiliations (XEP-0045). */
  readonly muc: MucStore;
  /** Metadata of files received by HTTP File Upload (XEP-0363). */
  readonly uploads: UploadStore;
  /** Invitations: account creation and contact tokens (XEP-0401, XEP-0445, XEP-0379). */
  readonly invites: InviteStore;
  /** Flushes and closes the backend. Safe to call twice. */
  close(): Promise<void>;
}

export class AlreadyExistsError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = "AlreadyExistsError";
  }
}
