/**
 * Message archives (XEP-0313 MAM): one archive per account (`kind: "user"`) and per MUC room
 * (`kind: "room"`). An entry is a stanza as it was delivered, with a stable, unique id (the XEP-0359
 * stanza-id the archive stamped on it) and a server timestamp.
 *
 * Archives are ordered by arrival (the order in which entries were appended), never by timestamp alone:
 * several entries can share a millisecond (XEP-0313 §3.1).
 *
 * Changes since the first draft (all additive, existing callers keep working):
 * - `with` may hold a full JID; a bare `with` filter matches the bare part (XEP-0313 §4.1.1).
 * - `ArchiveQuery` gained the `afterId` / `beforeId` filters (they count towards `count`, unlike the RSM
 *   `after` / `before` paging ids) and `offset` (RSM `<index/>`).
 * - `ArchivePage` gained `index` (RSM `<first index='…'/>`) and `count` is always filled.
 * - Unknown ids in a query reject with `ArchiveIdNotFoundError` (XEP-0313: item-not-found).
 */

/** Which archive: an account of a host, or a room of a MUC service host. */
export interface ArchiveRef {
  /** The host the archive lives on (`localhost` for users, `conference.localhost` for rooms). */
  host: string;
  /** Username (for `user`) or room name (for `room`), normalized. */
  owner: string;
  kind: "user" | "room";
}

export interface ArchiveEntry {
  /** Stable id, unique within the archive and never reused (XEP-0359 stanza-id). */
  id: string;
  /** Milliseconds since the epoch, when the server archived it. */
  timestamp: number;
  /**
   * The other party: for user archives the contact's JID as it appeared on the stanza (full when the
   * message came from or went to a resource, bare otherwise; the user's own JID for messages to self);
   * for room archives whatever the MUC module filters on (the occupant's real bare JID, or nick JID).
   */
  with: string;
  /** Serialized stanza. */
  stanza: string;
}

export interface ArchiveQuery {
  /**
   * Filter on `with`: a bare JID matches entries whose `with` has that bare part (any resource, or none);
   * a full JID matches exactly (XEP-0313 §4.1.1).
   */
  with?: string;
  /** Inclusive bounds, ms since the epoch. */
  start?: number;
  end?: number;
  /** Filters (XEP-0313 `after-id` / `before-id`): only entries strictly after / before this one. Counted. */
  afterId?: string;
  beforeId?: string;
  /** Only these ids (XEP-0313 `ids`). */
  ids?: string[];
  /** RSM paging (XEP-0059 §2.2/§2.3): the page strictly after / before this id within the filtered set. */
  after?: string;
  before?: string;
  /** RSM `<index/>` (XEP-0059 §2.5): skip this many entries of the filtered set, then page forwards. */
  offset?: number;
  /** Page size (0 asks only for `count`). Callers cap it; the store returns at most this many. */
  limit: number;
  /**
   * Return the page closest to the end (RSM `<before/>` with no id = last page). `before` pages
   * backwards too, so it implies this.
   */
  fromEnd?: boolean;
}

export interface ArchivePage {
  /** Entries in chronological (arrival) order. */
  entries: ArchiveEntry[];
  /** True when no more matching entries exist in the direction of the query (after the page going forwards, before it going backwards). */
  complete: boolean;
  /** Total number of entries matching the filters (without paging). */
  count: number;
  /** Position of `entries[0]` within the filtered set (0-based); undefined for an empty page. */
  index?: number;
}

/** A query named an id (after, before, afterId, beforeId or one of ids) that is not in the archive. */
export class ArchiveIdNotFoundError extends Error {
  constructor(readonly archiveId: string) {
    super(`no archive entry with id ${archiveId}`);
    this.name = "ArchiveIdNotFoundError";
  }
}

export interface ArchiveStore {
  /** Appends an entry at the end of the archive. The id must be new to this archive. */
  append(ref: ArchiveRef, entry: ArchiveEntry): Promise<void>;
  /** Rejects with `ArchiveIdNotFoundError` when a named id is not in the archive. */
  query(ref: ArchiveRef, q: ArchiveQuery): Promise<ArchivePage>;
  get(ref: ArchiveRef, id: string): Promise<ArchiveEntry | null>;
  /** Replaces the stored stanza of an entry (retraction/moderation tombstones). Returns whether it existed. */
  replace(ref: ArchiveRef, id: string, stanza: string): Promise<boolean>;
  /** Deletes entries older than the cutoff (ms) in one archive, or in every archive (`null`). Returns how many. */
  prune(ref: ArchiveRef | null, olderThan: number): Promise<number>;
  /** Deletes a whole archive (account or room deletion). */
  deleteArchive(ref: ArchiveRef): Promise<void>;
}
