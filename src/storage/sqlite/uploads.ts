import type Database from "better-sqlite3";
import { AlreadyExistsError } from "../types.ts";
import type { UploadRecord, UploadStore, UploadUsage } from "../uploads.ts";

interface Row {
  id: string;
  host: string;
  username: string;
  filename: string;
  size: number;
  content_type: string;
  created_at: number;
}

const COLUMNS = "id, host, username, filename, size, content_type, created_at";

function toRecord(row: Row): UploadRecord {
  return {
    id: row.id,
    host: row.host,
    username: row.username,
    filename: row.filename,
    size: row.size,
    contentType: row.content_type,
    createdAt: row.created_at,
  };
}

/** Upload metadata in the `uploads` table (created by its migration in migrations.ts). */
export class SqliteUploadStore implements UploadStore {
  readonly #db: Database.Database;
  readonly #add: Database.Statement<[string, string, string, string, number, string, number]>;
  readonly #get: Database.Statement<[string], Row>;
  readonly #usage: Database.Statement<[string, string], { files: number; bytes: number | null }>;
  readonly #totals: Database.Statement<[], { files: number; bytes: number | null }>;
  readonly #listUser: Database.Statement<[string, string], Row>;
  readonly #older: Database.Statement<[number, number], Row>;
  readonly #remove: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#add = db.prepare(`INSERT INTO uploads (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM uploads WHERE id = ?`);
    this.#usage = db.prepare(
      "SELECT count(*) AS files, sum(size) AS bytes FROM uploads WHERE host = ? AND username = ?",
    );
    this.#totals = db.prepare("SELECT count(*) AS files, sum(size) AS bytes FROM uploads");
    this.#listUser = db.prepare(
      `SELECT ${COLUMNS} FROM uploads WHERE host = ? AND username = ? ORDER BY created_at, id`,
    );
    this.#older = db.prepare(`SELECT ${COLUMNS} FROM uploads WHERE created_at < ? ORDER BY created_at, id LIMIT ?`);
    this.#remove = db.prepare("DELETE FROM uploads WHERE id = ?");
  }

  async add(r: UploadRecord): Promise<void> {
    const { changes } = this.#add.run(r.id, r.host, r.username, r.filename, r.size, r.contentType, r.createdAt);
    if (changes === 0) throw new AlreadyExistsError(`upload ${r.id}`);
  }

  async get(id: string): Promise<UploadRecord | null> {
    const row = this.#get.get(id);
    return row ? toRecord(row) : null;
  }

  async usage(host: string, username: string): Promise<UploadUsage> {
    const row = this.#usage.get(host, username);
    return { files: row?.files ?? 0, bytes: row?.bytes ?? 0 };
  }

  async totals(): Promise<UploadUsage> {
    const row = this.#totals.get();
    return { files: row?.files ?? 0, bytes: row?.bytes ?? 0 };
  }

  async listUser(host: string, username: string): Promise<UploadRecord[]> {
    return this.#listUser.all(host, username).map(toRecord);
  }

  async listOlderThan(before: number, limit: number): Promise<UploadRecord[]> {
    return this.#older.all(before, limit).map(toRecord);
  }

  async remove(ids: string[]): Promise<number> {
    const run = this.#db.transaction((list: string[]) => {
      let n = 0;
      for (const id of list) n += this.#remove.run(id).changes;
      return n;
    });
    return run(ids);
  }
}
