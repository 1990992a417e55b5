/**
 * Multi-User Chat rooms (XEP-0045) that outlive their occupants: persistent rooms with their configuration,
 * subject and affiliation lists. Temporary rooms never reach storage. Room names are normalized localparts,
 * hosts are MUC service domains (`conference.localhost`), JIDs are normalized bare JIDs.
 */

/** One persistent room. `config` and `data` are JSON documents owned by the MUC module. */
export interface MucRoomRecord {
  /** The room's localpart. */
  name: string;
  /** Room configuration (XEP-0045 §10.2 form values), JSON. */
  config: string;
  /** Current subject; "" when none was set. */
  subject: string;
  /** Nickname of whoever set the subject, or null. */
  subjectBy: string | null;
  /** When the subject was set, ms since the epoch, or null. */
  subjectAt: number | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Other room state the module keeps (occupant-id secret, room vCard), JSON. */
  data: string;
}

/** A long-lived affiliation (XEP-0045 §5.2); "none" is never stored, it is the absence of a record. */
export type MucStoredAffiliation = "owner" | "admin" | "member" | "outcast";

export interface MucAffiliationRecord {
  /** Bare JID (or a bare domain, for a ban of a whole server). */
  jid: string;
  affiliation: MucStoredAffiliation;
  /** Reserved nickname (XEP-0045 §7.10), if any. */
  nick: string | null;
  /** Why the affiliation was given (shown in lists). */
  reason: string | null;
}

export interface MucStore {
  /** All persistent rooms of a service, ordered by name. */
  listRooms(host: string): Promise<MucRoomRecord[]>;
  getRoom(host: string, name: string): Promise<MucRoomRecord | null>;
  /** Creates or replaces a room's record (not its affiliations). */
  saveRoom(host: string, room: MucRoomRecord): Promise<void>;
  /** Deletes a room and all its affiliations. Returns whether the room existed. */
  deleteRoom(host: string, name: string): Promise<boolean>;
  /** A room's affiliations, ordered by JID. */
  affiliations(host: string, name: string): Promise<MucAffiliationRecord[]>;
  /** Creates or replaces one affiliation. */
  setAffiliation(host: string, name: string, record: MucAffiliationRecord): Promise<void>;
  /** Removes one affiliation (back to "none"). Returns whether there was one. */
  removeAffiliation(host: string, name: string, jid: string): Promise<boolean>;
  /** Replaces all affiliations of a room at once (a room becoming persistent). */
  replaceAffiliations(host: string, name: string, records: MucAffiliationRecord[]): Promise<void>;
  /** Removes a JID's affiliations in every room of a service (account deletion). Returns how many. */
  removeJid(host: string, jid: string): Promise<number>;
}
