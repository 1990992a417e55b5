/**
 * Message archives (XEP-0313 MAM): one archive per account (`kind: "user"`) and per MUC room
 * (`kind: "room"`). An entry is a stanza as it was delivered, with a stable, unique id (the XEP-0359
 * stanza-id the archive stamped on it) and a server timestamp.
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
  /** Stable id, unique within the archive (XEP-0359 stanza-id). */
  id: string;
  /** Milliseconds since the epoch, when the server archived it. */
  timestamp: number;
  /**
   * The other party's bare JID for user archives (the contact, or the room for groupchat), or the
   * occupant's real bare JID / nick JID for room archives; used by the `with` filter.
   */
  with: string;
  /** Serialized stanza. */
  stanza: string;
}

export interface ArchiveQuery {
  /** Exact match on `with` (bare) or, when it has a resource, on the full JID stored. */
  with?: string;
  /** Inclusive bounds, ms since the epoch. */
  start?: number;
  end?: number;
  /** RSM (XEP-0059): entries strictly after / before this id. */
  after?: string;
  before?: string;
  /** Only these ids (XEP-0313 v0.7+ `ids` filter). */
  ids?: string[];
  /** Page size; the store caps it. */
  limit: number;
  /** Return the page closest to the end (RSM `<before/>` with no id = last page). */
  fromEnd?: boolean;
}

export interface ArchivePage {
  /** Entries in chronological order. */
  entries: ArchiveEntry[];
  /** True when no more entries exist in the direction of the query. */
  complete: boolean;
  /** Total number of entries matching the filters (without paging), if cheap to know. */
  count?: number;
}

export interface ArchiveStore {
  append(ref: ArchiveRef, entry: ArchiveEntry): Promise<void>;
  query(ref: ArchiveRef, q: ArchiveQuery): Promise<ArchivePage>;
  get(ref: ArchiveRef, id: string): Promise<ArchiveEntry | null>;
  /** Replaces the stored stanza of an entry (retraction/moderation tombstones). Returns whether it existed. */
  replace(ref: ArchiveRef, id: string, stanza: string): Promise<boolean>;
  /** Deletes entries older than the cutoff (retention). Returns how many. */
  prune(ref: ArchiveRef | null, olderThan: number): Promise<number>;
  /** Deletes a whole archive (account or room deletion). */
  deleteArchive(ref: ArchiveRef): Promise<void>;
}
