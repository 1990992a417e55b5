import type Database from "better-sqlite3";
import type { MucAffiliationRecord, MucRoomRecord, MucStore, MucStoredAffiliation } from "../muc.ts";

interface RoomRow {
  name: string;
  config: string;
  subject: string;
  subject_by: string | null;
  subject_at: number | null;
  created_at: number;
  data: string;
}

interface AffiliationRow {
  jid: string;
  affiliation: MucStoredAffiliation;
  nick: string | null;
  reason: string | null;
}

function toRecord(row: RoomRow): MucRoomRecord {
  return {
    name: row.name,
    config: row.config,
    subject: row.subject,
    subjectBy: row.subject_by,
    subjectAt: row.subject_at,
    createdAt: row.created_at,
    data: row.data,
  };
}

/** Persistent MUC rooms (`muc_rooms`) and their affiliation lists (`muc_affiliations`). */
export class SqliteMucStore implements MucStore {
  readonly #list: Database.Statement<[string], RoomRow>;
  readonly #get: Database.Statement<[string, string], RoomRow>;
  readonly #save: Database.Statement<[string, string, string, string, string | null, number | null, number, string]>;
  readonly #deleteRoom: Database.Statement<[string, string]>;
  readonly #deleteAffs: Database.Statement<[string, string]>;
  readonly #affs: Database.Statement<[string, string], AffiliationRow>;
  readonly #setAff: Database.Statement<[string, string, string, string, string | null, string | null]>;
  readonly #removeAff: Database.Statement<[string, string, string]>;
  readonly #removeJid: Database.Statement<[string, string]>;
  readonly #deleteTx: (host: string, name: string) => boolean;
  readonly #replaceTx: (host: string, name: string, records: MucAffiliationRecord[]) => void;

  constructor(db: Database.Database) {
    const cols = "name, config, subject, subject_by, subject_at, created_at, data";
    this.#list = db.prepare(`SELECT ${cols} FROM muc_rooms WHERE host = ? ORDER BY name`);
    this.#get = db.prepare(`SELECT ${cols} FROM muc_rooms WHERE host = ? AND name = ?`);
    this.#save = db.prepare(
      `INSERT INTO muc_rooms (host, ${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ` +
        "ON CONFLICT (host, name) DO UPDATE SET config = excluded.config, subject = excluded.subject, " +
        "subject_by = excluded.subject_by, subject_at = excluded.subject_at, data = excluded.data",
    );
    this.#deleteRoom = db.prepare("DELETE FROM muc_rooms WHERE host = ? AND name = ?");
    this.#deleteAffs = db.prepare("DELETE FROM muc_affiliations WHERE host = ? AND room = ?");
    this.#affs = db.prepare(
      "SELECT jid, affiliation, nick, reason FROM muc_affiliations WHERE host = ? AND room = ? ORDER BY jid",
    );
    this.#setAff = db.prepare(
      "INSERT INTO muc_affiliations (host, room, jid, affiliation, nick, reason) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (host, room, jid) DO UPDATE SET affiliation = excluded.affiliation, nick = excluded.nick, " +
        "reason = excluded.reason",
    );
    this.#removeAff = db.prepare("DELETE FROM muc_affiliations WHERE host = ? AND room = ? AND jid = ?");
    this.#removeJid = db.prepare("DELETE FROM muc_affiliations WHERE host = ? AND jid = ?");
    this.#deleteTx = db.transaction((host: string, name: string) => {
      this.#deleteAffs.run(host, name);
      return this.#deleteRoom.run(host, name).changes > 0;
    });
    this.#replaceTx = db.transaction((host: string, name: string, records: MucAffiliationRecord[]) => {
      this.#deleteAffs.run(host, name);
      for (const r of records) this.#setAff.run(host, name, r.jid, r.affiliation, r.nick, r.reason);
    });
  }

  async listRooms(host: string): Promise<MucRoomRecord[]> {
    return this.#list.all(host).map(toRecord);
  }

  async getRoom(host: string, name: string): Promise<MucRoomRecord | null> {
    const row = this.#get.get(host, name);
    return row ? toRecord(row) : null;
  }

  async saveRoom(host: string, room: MucRoomRecord): Promise<void> {
    this.#save.run(
      host,
      room.name,
      room.config,
      room.subject,
      room.subjectBy,
      room.subjectAt,
      room.createdAt,
      room.data,
    );
  }

  async deleteRoom(host: string, name: string): Promise<boolean> {
    return this.#deleteTx(host, name);
  }

  async affiliations(host: string, name: string): Promise<MucAffiliationRecord[]> {
    return this.#affs.all(host, name).map((r) => ({ ...r }));
  }

  async setAffiliation(host: string, name: string, r: MucAffiliationRecord): Promise<void> {
    this.#setAff.run(host, name, r.jid, r.affiliation, r.nick, r.reason);
  }

  async removeAffiliation(host: string, name: string, jid: string): Promise<boolean> {
    return this.#removeAff.run(host, name, jid).changes > 0;
  }

  async replaceAffiliations(host: string, name: string, records: MucAffiliationRecord[]): Promise<void> {
    this.#replaceTx(host, name, records);
  }

  async removeJid(host: string, jid: string): Promise<number> {
    return this.#removeJid.run(host, jid).changes;
  }
}
