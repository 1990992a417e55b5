import type Database from "better-sqlite3";
import type { OfflineMessage, OfflineStore } from "../types.ts";

interface MessageRow {
  id: number;
  stanza: string;
  stored_at: number;
}

/** Offline messages (RFC 6121 §8.5.2.2.2 / XEP-0160), one row each, delivered in id order. */
export class SqliteOfflineStore implements OfflineStore {
  readonly #push: Database.Statement<[string, string, string, number]>;
  readonly #count: Database.Statement<[string, string], { n: number }>;
  readonly #peek: Database.Statement<[string, string], MessageRow>;
  readonly #removeOne: Database.Statement<[string, string, number]>;
  readonly #deleteUser: Database.Statement<[string, string]>;
  readonly #removeTx: (host: string, username: string, ids: readonly number[]) => void;

  constructor(db: Database.Database) {
    this.#push = db.prepare("INSERT INTO offline_messages (host, username, stanza, stored_at) VALUES (?, ?, ?, ?)");
    this.#count = db.prepare("SELECT count(*) AS n FROM offline_messages WHERE host = ? AND username = ?");
    this.#peek = db.prepare(
      "SELECT id, stanza, stored_at FROM offline_messages WHERE host = ? AND username = ? ORDER BY id",
    );
    // Scoped to the user as well as the id, so a stale or foreign id can never remove someone else's message.
    this.#removeOne = db.prepare("DELETE FROM offline_messages WHERE host = ? AND username = ? AND id = ?");
    this.#deleteUser = db.prepare("DELETE FROM offline_messages WHERE host = ? AND username = ?");
    // One prepared single-row delete run per id inside one transaction: no SQL built per call, one fsync.
    this.#removeTx = db.transaction((host: string, username: string, ids: readonly number[]) => {
      for (const id of ids) this.#removeOne.run(host, username, id);
    });
  }

  async push(host: string, username: string, stanza: string, storedAt: number): Promise<void> {
    this.#push.run(host, username, stanza, storedAt);
  }

  async count(host: string, username: string): Promise<number> {
    return this.#count.get(host, username)?.n ?? 0;
  }

  async peek(host: string, username: string): Promise<OfflineMessage[]> {
    return this.#peek.all(host, username).map((row) => ({ id: row.id, stanza: row.stanza, storedAt: row.stored_at }));
  }

  async remove(host: string, username: string, ids: number[]): Promise<void> {
    if (ids.length > 0) this.#removeTx(host, username, ids);
  }

  async deleteUser(host: string, username: string): Promise<void> {
    this.#deleteUser.run(host, username);
  }
}
