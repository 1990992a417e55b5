import type Database from "better-sqlite3";
import type { KeyValueStore } from "../types.ts";

/** Per-user documents in the `kv` table, keyed by (host, username, store, key). */
export class SqliteKeyValueStore implements KeyValueStore {
  readonly #get: Database.Statement<[string, string, string, string], { value: string }>;
  readonly #set: Database.Statement<[string, string, string, string, string]>;
  readonly #delete: Database.Statement<[string, string, string, string]>;
  readonly #keys: Database.Statement<[string, string, string], { key: string }>;
  readonly #deleteUser: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare("SELECT value FROM kv WHERE host = ? AND username = ? AND store = ? AND key = ?");
    this.#set = db.prepare(
      "INSERT INTO kv (host, username, store, key, value) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (host, username, store, key) DO UPDATE SET value = excluded.value",
    );
    this.#delete = db.prepare("DELETE FROM kv WHERE host = ? AND username = ? AND store = ? AND key = ?");
    this.#keys = db.prepare("SELECT key FROM kv WHERE host = ? AND username = ? AND store = ? ORDER BY key");
    this.#deleteUser = db.prepare("DELETE FROM kv WHERE host = ? AND username = ?");
  }

  async get(host: string, username: string, store: string, key: string): Promise<string | null> {
    return this.#get.get(host, username, store, key)?.value ?? null;
  }

  async set(host: string, username: string, store: string, key: string, value: string): Promise<void> {
    this.#set.run(host, username, store, key, value);
  }

  async delete(host: string, username: string, store: string, key: string): Promise<boolean> {
    return this.#delete.run(host, username, store, key).changes > 0;
  }

  /** Keys in code point order. */
  async keys(host: string, username: string, store: string): Promise<string[]> {
    return this.#keys.all(host, username, store).map((row) => row.key);
  }

  async deleteUser(host: string, username: string): Promise<void> {
    this.#deleteUser.run(host, username);
  }
}
