import type Database from "better-sqlite3";
import type { Roster, RosterItem, RosterStore, Subscription } from "../types.ts";

interface ItemRow {
  contact: string;
  name: string | null;
  subscription: Subscription;
  ask_out: number;
  ask_in: number;
  approved: number;
  groups: string;
  pending_in_stanza: string | null;
}

const COLUMNS = "contact, name, subscription, ask_out, ask_in, approved, groups, pending_in_stanza";

function toItem(row: ItemRow): RosterItem {
  return {
    jid: row.contact,
    name: row.name,
    subscription: row.subscription,
    askOut: row.ask_out === 1,
    askIn: row.ask_in === 1,
    approved: row.approved === 1,
    groups: JSON.parse(row.groups) as string[],
    pendingInStanza: row.pending_in_stanza,
  };
}

/**
 * Roster items plus a per-user version counter (XEP-0237 roster versioning).
 *
 * Versions are decimal integer strings. A user who never had a roster is at "0"; every change
 * (setItem, an effective removeItem, deleteUser) increments the counter in the same transaction, so
 * versions are strictly increasing per user and a version string always names exactly one roster state.
 * deleteUser keeps the counter row (bumped) so that an account deleted and created again never reuses a
 * version a client may still have cached, which would make the server wrongly answer "unchanged".
 */
export class SqliteRosterStore implements RosterStore {
  readonly #items: Database.Statement<[string, string], ItemRow>;
  readonly #item: Database.Statement<[string, string, string], ItemRow>;
  readonly #version: Database.Statement<[string, string], { version: number }>;
  readonly #upsert: Database.Statement<
    [string, string, string, string | null, Subscription, number, number, number, string, string | null]
  >;
  readonly #deleteItem: Database.Statement<[string, string, string]>;
  readonly #deleteItems: Database.Statement<[string, string]>;
  readonly #bump: Database.Statement<[string, string], { version: number }>;
  readonly #bumpIfExists: Database.Statement<[string, string]>;
  readonly #getTx: (host: string, username: string) => Roster;
  readonly #setTx: (host: string, username: string, item: RosterItem) => string;
  readonly #removeTx: (host: string, username: string, contact: string) => string | null;
  readonly #deleteUserTx: (host: string, username: string) => void;

  constructor(db: Database.Database) {
    this.#items = db.prepare(`SELECT ${COLUMNS} FROM roster_items WHERE host = ? AND username = ? ORDER BY contact`);
    this.#item = db.prepare(`SELECT ${COLUMNS} FROM roster_items WHERE host = ? AND username = ? AND contact = ?`);
    this.#version = db.prepare("SELECT version FROM roster_versions WHERE host = ? AND username = ?");
    this.#upsert = db.prepare(
      `INSERT INTO roster_items (host, username, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ` +
        "ON CONFLICT (host, username, contact) DO UPDATE SET name = excluded.name, " +
        "subscription = excluded.subscription, ask_out = excluded.ask_out, ask_in = excluded.ask_in, " +
        "approved = excluded.approved, groups = excluded.groups, pending_in_stanza = excluded.pending_in_stanza",
    );
    this.#deleteItem = db.prepare("DELETE FROM roster_items WHERE host = ? AND username = ? AND contact = ?");
    this.#deleteItems = db.prepare("DELETE FROM roster_items WHERE host = ? AND username = ?");
    this.#bump = db.prepare(
      "INSERT INTO roster_versions (host, username, version) VALUES (?, ?, 1) " +
        "ON CONFLICT (host, username) DO UPDATE SET version = roster_versions.version + 1 RETURNING version",
    );
    this.#bumpIfExists = db.prepare("UPDATE roster_versions SET version = version + 1 WHERE host = ? AND username = ?");

    // Reads in a transaction too, so the version always matches the items even with another writer process.
    this.#getTx = db.transaction((host: string, username: string): Roster => {
      const version = this.#version.get(host, username)?.version ?? 0;
      return { version: String(version), items: this.#items.all(host, username).map(toItem) };
    });
    this.#setTx = db.transaction((host: string, username: string, item: RosterItem): string => {
      this.#upsert.run(
        host,
        username,
        item.jid,
        item.name,
        item.subscription,
        item.askOut ? 1 : 0,
        item.askIn ? 1 : 0,
        item.approved ? 1 : 0,
        JSON.stringify(item.groups),
        item.pendingInStanza,
      );
      return this.#bumpVersion(host, username);
    });
    this.#removeTx = db.transaction((host: string, username: string, contact: string): string | null => {
      if (this.#deleteItem.run(host, username, contact).changes === 0) return null;
      return this.#bumpVersion(host, username);
    });
    this.#deleteUserTx = db.transaction((host: string, username: string): void => {
      this.#deleteItems.run(host, username);
      this.#bumpIfExists.run(host, username);
    });
  }

  #bumpVersion(host: string, username: string): string {
    return String(this.#bump.get(host, username)!.version);
  }

  /** Items ordered by contact JID (code point order). */
  async get(host: string, username: string): Promise<Roster> {
    return this.#getTx(host, username);
  }

  async getItem(host: string, username: string, contact: string): Promise<RosterItem | null> {
    const row = this.#item.get(host, username, contact);
    return row ? toItem(row) : null;
  }

  async setItem(host: string, username: string, item: RosterItem): Promise<string> {
    return this.#setTx(host, username, item);
  }

  async removeItem(host: string, username: string, contact: string): Promise<string | null> {
    return this.#removeTx(host, username, contact);
  }

  async deleteUser(host: string, username: string): Promise<void> {
    this.#deleteUserTx(host, username);
  }
}
