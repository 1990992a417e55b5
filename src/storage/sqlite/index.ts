import type Database from "better-sqlite3";
import type { ArchiveStore } from "../archive.ts";
import type { InviteStore } from "../invites.ts";
import type { MucStore } from "../muc.ts";
import type { PubsubStore } from "../pubsub.ts";
import type { AccountStore, KeyValueStore, OfflineStore, RosterStore, Storage } from "../types.ts";
import type { UploadStore } from "../uploads.ts";
import { SqliteAccountStore } from "./accounts.ts";
import { SqliteArchiveStore } from "./archive.ts";
import { openDatabase } from "./database.ts";
import { SqliteInviteStore } from "./invites.ts";
import { SqliteKeyValueStore } from "./kv.ts";
import { SqliteMucStore } from "./muc.ts";
import { SqliteOfflineStore } from "./offline.ts";
import { SqlitePubsubStore } from "./pubsub.ts";
import { SqliteRosterStore } from "./roster.ts";
import { SqliteUploadStore } from "./uploads.ts";

export { SchemaTooNewError } from "./database.ts";
export { SCHEMA_VERSION } from "./migrations.ts";

class SqliteStorage implements Storage {
  readonly kind = "sqlite";
  readonly accounts: AccountStore;
  readonly roster: RosterStore;
  readonly offline: OfflineStore;
  readonly kv: KeyValueStore;
  readonly pubsub: PubsubStore;
  readonly archive: ArchiveStore;
  readonly muc: MucStore;
  readonly uploads: UploadStore;
  readonly invites: InviteStore;
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    this.accounts = new SqliteAccountStore(db);
    this.roster = new SqliteRosterStore(db);
    this.offline = new SqliteOfflineStore(db);
    this.kv = new SqliteKeyValueStore(db);
    this.pubsub = new SqlitePubsubStore(db);
    this.archive = new SqliteArchiveStore(db);
    this.muc = new SqliteMucStore(db);
    this.uploads = new SqliteUploadStore(db);
    this.invites = new SqliteInviteStore(db);
  }

  async close(): Promise<void> {
    // Closing the last connection checkpoints the WAL back into the main file.
    if (this.#db.open) this.#db.close();
  }
}

/**
 * Opens the embedded SQLite backend at `path` (":memory:" for a throwaway database), applying pending
 * schema migrations. Rejects with `SchemaTooNewError` if the file was written by a newer Hearth.
 */
export async function openSqliteStorage(path: string): Promise<Storage> {
  return new SqliteStorage(openDatabase(path));
}
