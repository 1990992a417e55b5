import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { type Account, type AccountCredentials, type AccountStore, AlreadyExistsError } from "../types.ts";

interface AccountRow {
  uuid: string;
  host: string;
  username: string;
  credentials: string;
  created_at: number;
  last_seen: number | null;
  last_status: string | null;
}

const COLUMNS = "uuid, host, username, credentials, created_at, last_seen, last_status";

function toAccount(row: AccountRow): Account {
  return {
    uuid: row.uuid,
    username: row.username,
    host: row.host,
    credentials: JSON.parse(row.credentials) as AccountCredentials,
    createdAt: row.created_at,
    lastSeen: row.last_seen,
    lastStatus: row.last_status,
  };
}

/** Accounts in the `accounts` table, one row per (host, username). */
export class SqliteAccountStore implements AccountStore {
  readonly #insert: Database.Statement<[string, string, string, string, number]>;
  readonly #get: Database.Statement<[string, string], AccountRow>;
  readonly #exists: Database.Statement<[string, string], { one: number }>;
  readonly #setCredentials: Database.Statement<[string, string, string]>;
  readonly #setLastSeen: Database.Statement<[number, string | null, string, string]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #list: Database.Statement<[string], AccountRow>;
  readonly #count: Database.Statement<[string], { n: number }>;

  constructor(db: Database.Database) {
    // ON CONFLICT DO NOTHING instead of catching a constraint error: same SQL works on PostgreSQL,
    // where a failed statement would abort the surrounding transaction.
    this.#insert = db.prepare(
      "INSERT INTO accounts (uuid, host, username, credentials, created_at) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (host, username) DO NOTHING",
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE host = ? AND username = ?`);
    this.#exists = db.prepare("SELECT 1 AS one FROM accounts WHERE host = ? AND username = ?");
    this.#setCredentials = db.prepare("UPDATE accounts SET credentials = ? WHERE host = ? AND username = ?");
    this.#setLastSeen = db.prepare(
      "UPDATE accounts SET last_seen = ?, last_status = ? WHERE host = ? AND username = ?",
    );
    this.#delete = db.prepare("DELETE FROM accounts WHERE host = ? AND username = ?");
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM accounts WHERE host = ? ORDER BY username`);
    this.#count = db.prepare("SELECT count(*) AS n FROM accounts WHERE host = ?");
  }

  async create(host: string, username: string, credentials: AccountCredentials): Promise<Account> {
    const json = JSON.stringify(credentials);
    const account: Account = {
      uuid: randomUUID(),
      username,
      host,
      // A copy, like get() returns: later changes to the caller's object must not show here.
      credentials: JSON.parse(json) as AccountCredentials,
      createdAt: Date.now(),
      lastSeen: null,
      lastStatus: null,
    };
    const { changes } = this.#insert.run(account.uuid, host, username, json, account.createdAt);
    if (changes === 0) throw new AlreadyExistsError(`account ${username}@${host}`);
    return account;
  }

  async get(host: string, username: string): Promise<Account | null> {
    const row = this.#get.get(host, username);
    return row ? toAccount(row) : null;
  }

  async exists(host: string, username: string): Promise<boolean> {
    return this.#exists.get(host, username) !== undefined;
  }

  async setCredentials(host: string, username: string, credentials: AccountCredentials): Promise<boolean> {
    return this.#setCredentials.run(JSON.stringify(credentials), host, username).changes > 0;
  }

  async setLastSeen(host: string, username: string, when: number, status: string | null): Promise<void> {
    this.#setLastSeen.run(when, status, host, username);
  }

  async delete(host: string, username: string): Promise<boolean> {
    return this.#delete.run(host, username).changes > 0;
  }

  /** Ordered by username in Unicode code point order. */
  async list(host: string): Promise<Account[]> {
    return this.#list.all(host).map(toAccount);
  }

  async count(host: string): Promise<number> {
    return this.#count.get(host)?.n ?? 0;
  }
}
