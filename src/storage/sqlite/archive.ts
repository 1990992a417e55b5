import type Database from "better-sqlite3";
import {
  type ArchiveEntry,
  ArchiveIdNotFoundError,
  type ArchivePage,
  type ArchiveQuery,
  type ArchiveRef,
  type ArchiveStore,
} from "../archive.ts";

interface EntryRow {
  seq: number;
  id: string;
  ts: number;
  with_bare: string;
  with_resource: string;
  stanza: string;
}

type Param = string | number;

/** Splits a JID at the first '/': a bare JID never contains one, a resource may. */
function splitJid(jid: string): [bare: string, resource: string] {
  const i = jid.indexOf("/");
  return i < 0 ? [jid, ""] : [jid.slice(0, i), jid.slice(i + 1)];
}

function toEntry(row: EntryRow): ArchiveEntry {
  return {
    id: row.id,
    timestamp: row.ts,
    with: row.with_resource === "" ? row.with_bare : `${row.with_bare}/${row.with_resource}`,
    stanza: row.stanza,
  };
}

/**
 * Message archives in the `archive` table. Order is the `seq` column (arrival order); ids are looked up
 * to their `seq` so that RSM and before-id/after-id compare positions, not timestamps or id strings.
 */
export class SqliteArchiveStore implements ArchiveStore {
  readonly #db: Database.Database;
  readonly #append: Database.Statement<[string, string, string, string, number, string, string, string]>;
  readonly #seqOf: Database.Statement<[string, string, string, string], { seq: number }>;
  readonly #get: Database.Statement<[string, string, string, string], EntryRow>;
  readonly #replace: Database.Statement<[string, string, string, string, string]>;
  readonly #pruneAll: Database.Statement<[number]>;
  readonly #pruneOne: Database.Statement<[string, string, string, number]>;
  readonly #delete: Database.Statement<[string, string, string]>;
  /** Prepared statements by SQL text; the number of query shapes is bounded by the filter combinations. */
  readonly #cache = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#append = db.prepare(
      "INSERT INTO archive (host, kind, owner, id, ts, with_bare, with_resource, stanza) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#seqOf = db.prepare("SELECT seq FROM archive WHERE host = ? AND kind = ? AND owner = ? AND id = ?");
    this.#get = db.prepare(
      "SELECT seq, id, ts, with_bare, with_resource, stanza FROM archive WHERE host = ? AND kind = ? AND owner = ? AND id = ?",
    );
    this.#replace = db.prepare("UPDATE archive SET stanza = ? WHERE host = ? AND kind = ? AND owner = ? AND id = ?");
    this.#pruneAll = db.prepare("DELETE FROM archive WHERE ts < ?");
    this.#pruneOne = db.prepare("DELETE FROM archive WHERE host = ? AND kind = ? AND owner = ? AND ts < ?");
    this.#delete = db.prepare("DELETE FROM archive WHERE host = ? AND kind = ? AND owner = ?");
  }

  async append(ref: ArchiveRef, entry: ArchiveEntry): Promise<void> {
    const [bare, resource] = splitJid(entry.with);
    this.#append.run(ref.host, ref.kind, ref.owner, entry.id, entry.timestamp, bare, resource, entry.stanza);
  }

  async get(ref: ArchiveRef, id: string): Promise<ArchiveEntry | null> {
    const row = this.#get.get(ref.host, ref.kind, ref.owner, id);
    return row ? toEntry(row) : null;
  }

  async replace(ref: ArchiveRef, id: string, stanza: string): Promise<boolean> {
    return this.#replace.run(stanza, ref.host, ref.kind, ref.owner, id).changes > 0;
  }

  async prune(ref: ArchiveRef | null, olderThan: number): Promise<number> {
    const r = ref ? this.#pruneOne.run(ref.host, ref.kind, ref.owner, olderThan) : this.#pruneAll.run(olderThan);
    return r.changes;
  }

  async deleteArchive(ref: ArchiveRef): Promise<void> {
    this.#delete.run(ref.host, ref.kind, ref.owner);
  }

  async query(ref: ArchiveRef, q: ArchiveQuery): Promise<ArchivePage> {
    // One read transaction: count, page and index see the same archive even while messages arrive.
    return this.#db.transaction(() => this.#query(ref, q))();
  }

  #query(ref: ArchiveRef, q: ArchiveQuery): ArchivePage {
    const where = ["host = ?", "kind = ?", "owner = ?"];
    const params: Param[] = [ref.host, ref.kind, ref.owner];
    if (q.with !== undefined) {
      const [bare, resource] = splitJid(q.with);
      where.push("with_bare = ?");
      params.push(bare);
      if (resource !== "") {
        where.push("with_resource = ?");
        params.push(resource);
      }
    }
    if (q.start !== undefined) {
      where.push("ts >= ?");
      params.push(q.start);
    }
    if (q.end !== undefined) {
      where.push("ts <= ?");
      params.push(q.end);
    }
    if (q.afterId !== undefined) {
      where.push("seq > ?");
      params.push(this.#seq(ref, q.afterId));
    }
    if (q.beforeId !== undefined) {
      where.push("seq < ?");
      params.push(this.#seq(ref, q.beforeId));
    }
    if (q.ids !== undefined) {
      for (const id of new Set(q.ids)) this.#seq(ref, id);
      // SQLite-only: json_each expands the array. PostgreSQL: id = ANY(?::text[]).
      where.push("id IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(q.ids));
    }
    const filter = where.join(" AND ");
    const count = (this.#stmt(`SELECT count(*) AS n FROM archive WHERE ${filter}`).get(...params) as { n: number }).n;

    const pageWhere = [filter];
    const pageParams = [...params];
    let backwards = q.fromEnd === true;
    if (q.after !== undefined) {
      pageWhere.push("seq > ?");
      pageParams.push(this.#seq(ref, q.after));
      backwards = false;
    } else if (q.before !== undefined) {
      pageWhere.push("seq < ?");
      pageParams.push(this.#seq(ref, q.before));
      backwards = true;
    }
    const offset = !backwards && q.after === undefined && q.offset ? q.offset : 0;
    const limit = Math.max(0, q.limit);
    // One extra row tells whether the page is the last one in its direction.
    const rows = this.#stmt(
      "SELECT seq, id, ts, with_bare, with_resource, stanza FROM archive " +
        `WHERE ${pageWhere.join(" AND ")} ORDER BY seq ${backwards ? "DESC" : "ASC"} LIMIT ? OFFSET ?`,
    ).all(...pageParams, limit + 1, offset) as EntryRow[];
    const complete = rows.length <= limit;
    const page = rows.slice(0, limit);
    if (backwards) page.reverse();

    let index: number | undefined;
    const first = page[0];
    if (first) {
      index = (
        this.#stmt(`SELECT count(*) AS n FROM archive WHERE ${filter} AND seq < ?`).get(...params, first.seq) as {
          n: number;
        }
      ).n;
    }
    return { entries: page.map(toEntry), complete, count, index };
  }

  #seq(ref: ArchiveRef, id: string): number {
    const row = this.#seqOf.get(ref.host, ref.kind, ref.owner, id);
    if (!row) throw new ArchiveIdNotFoundError(id);
    return row.seq;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#cache.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#cache.set(sql, s);
    }
    return s;
  }
}
