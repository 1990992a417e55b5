import type Database from "better-sqlite3";
import type { Invite, InviteStore } from "../invites.ts";
import { AlreadyExistsError } from "../types.ts";

interface InviteRow {
  token: string;
  host: string;
  creator: string | null;
  username: string | null;
  roster: string;
  allow_registration: number;
  max_uses: number;
  uses: number;
  used_by: string;
  created_at: number;
  expires_at: number;
}

function toInvite(row: InviteRow): Invite {
  return {
    token: row.token,
    host: row.host,
    creator: row.creator,
    username: row.username,
    roster: JSON.parse(row.roster),
    allowRegistration: row.allow_registration === 1,
    maxUses: row.max_uses,
    uses: row.uses,
    usedBy: JSON.parse(row.used_by),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

// The token breaks ties so that listings are stable.
const COLUMNS =
  "token, host, creator, username, roster, allow_registration, max_uses, uses, used_by, created_at, expires_at";

/** Invitations in the `invites` table; `roster` and `used_by` are JSON arrays. */
export class SqliteInviteStore implements InviteStore {
  readonly #insert: Database.Statement<
    [string, string, string | null, string | null, string, number, number, number, string, number, number]
  >;
  readonly #get: Database.Statement<[string], InviteRow>;
  readonly #use: Database.Statement<[string, string], InviteRow>;
  readonly #listAll: Database.Statement<[], InviteRow>;
  readonly #listHost: Database.Statement<[string], InviteRow>;
  readonly #byUsername: Database.Statement<[string, string], InviteRow>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deleteByCreator: Database.Statement<[string]>;
  readonly #prune: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO invites (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (token) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM invites WHERE token = ?`);
    // One statement, so that concurrent redemptions of a single-use token cannot both pass the check.
    // SQLite-only: json_insert; PostgreSQL: used_by = used_by || jsonb_build_array($1).
    this.#use = db.prepare(
      "UPDATE invites SET uses = uses + 1, used_by = json_insert(used_by, '$[#]', ?) " +
        `WHERE token = ? AND uses < max_uses RETURNING ${COLUMNS}`,
    );
    this.#listAll = db.prepare(`SELECT ${COLUMNS} FROM invites ORDER BY created_at, token`);
    this.#listHost = db.prepare(`SELECT ${COLUMNS} FROM invites WHERE host = ? ORDER BY created_at, token`);
    this.#byUsername = db.prepare(
      `SELECT ${COLUMNS} FROM invites WHERE host = ? AND username = ? ORDER BY created_at, token`,
    );
    this.#delete = db.prepare("DELETE FROM invites WHERE token = ?");
    this.#deleteByCreator = db.prepare("DELETE FROM invites WHERE creator = ?");
    this.#prune = db.prepare("DELETE FROM invites WHERE expires_at <= ?");
  }

  async create(invite: Invite): Promise<void> {
    const result = this.#insert.run(
      invite.token,
      invite.host,
      invite.creator,
      invite.username,
      JSON.stringify(invite.roster),
      invite.allowRegistration ? 1 : 0,
      invite.maxUses,
      invite.uses,
      JSON.stringify(invite.usedBy),
      invite.createdAt,
      invite.expiresAt,
    );
    if (result.changes === 0) throw new AlreadyExistsError("invitation token");
  }

  async get(token: string): Promise<Invite | null> {
    const row = this.#get.get(token);
    return row ? toInvite(row) : null;
  }

  async use(token: string, usedBy: string): Promise<Invite | null> {
    const row = this.#use.get(usedBy, token);
    return row ? toInvite(row) : null;
  }

  async list(host?: string): Promise<Invite[]> {
    return (host === undefined ? this.#listAll.all() : this.#listHost.all(host)).map(toInvite);
  }

  async byUsername(host: string, username: string): Promise<Invite[]> {
    return this.#byUsername.all(host, username).map(toInvite);
  }

  async delete(token: string): Promise<boolean> {
    return this.#delete.run(token).changes > 0;
  }

  async deleteByCreator(creator: string): Promise<number> {
    return this.#deleteByCreator.run(creator).changes;
  }

  async prune(now: number): Promise<number> {
    return this.#prune.run(now).changes;
  }
}
