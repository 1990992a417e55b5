import { type Connection, Database } from "./driver.ts";
import { MIGRATIONS } from "./migrations.ts";

/** The database was written by a newer Hearth; opening it could corrupt data this build does not know about. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `database ${path} has schema version ${found}, newer than the ${supported} this Hearth supports; ` +
        "upgrade Hearth or restore a backup made before the upgrade",
    );
    this.name = "SchemaTooNewError";
  }
}

/**
 * Opens (creating if needed) a SQLite database, sets the pragmas and brings the schema up to date.
 * `path` may be ":memory:". `migrations` is only overridden by tests.
 */
export function openDatabase(path: string, migrations: readonly string[] = MIGRATIONS): Connection {
  const db = new Database(path);
  try {
    // WAL lets logins read while another connection writes, and makes commits cheap (no rollback journal).
    // In-memory databases silently stay in "memory" mode.
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL syncs only at checkpoints: an acknowledged write survives a crash of the process,
    // but an OS crash or power loss may lose the last few transactions (never corrupting the file).
    // Acceptable for chat state, and several times faster than FULL on the offline-message path.
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Another process (e.g. the `hearth` CLI adding a user while the server runs) may hold the write lock.
    db.pragma("busy_timeout = 5000");
    migrate(db, path, migrations);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Applies the pending migrations, all in one transaction, or refuses a schema newer than `migrations`. */
function migrate(db: Connection, path: string, migrations: readonly string[]): void {
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER NOT NULL PRIMARY KEY,
      applied_at BIGINT NOT NULL
    )`);
    const row = db.prepare<[], { v: number | null }>("SELECT max(version) AS v FROM schema_migrations").get();
    const current = row?.v ?? 0;
    if (current > migrations.length) throw new SchemaTooNewError(path, current, migrations.length);
    const record = db.prepare<[number, number]>("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    for (let version = current + 1; version <= migrations.length; version++) {
      db.exec(migrations[version - 1]!);
      record.run(version, Date.now());
    }
  });
  // IMMEDIATE takes the write lock up front, so two processes opening a fresh file cannot both migrate.
  run.immediate();
}
