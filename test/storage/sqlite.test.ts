import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { openStorage } from "../../src/storage/open.ts";
import { openDatabase, SchemaTooNewError } from "../../src/storage/sqlite/database.ts";
import { Database } from "../../src/storage/sqlite/driver.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/storage/sqlite/migrations.ts";
import { archiveConformance } from "./archive-conformance.ts";
import { storageConformance } from "./conformance.ts";
import { invitesConformance } from "./invites-conformance.ts";
import { mucStoreConformance } from "./muc-conformance.ts";
import { pubsubConformance } from "./pubsub-conformance.ts";
import { uploadsConformance } from "./uploads-conformance.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-sqlite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A path to a database file that does not exist yet. */
const freshFile = () => join(dir, `db-${++files}.sqlite`);

storageConformance("sqlite :memory:", () => openStorage({ driver: "sqlite", path: ":memory:" }));
storageConformance("sqlite file", () => openStorage({ driver: "sqlite", path: freshFile() }));
archiveConformance("sqlite", () => openStorage({ driver: "sqlite", path: freshFile() }));
pubsubConformance("sqlite :memory:", () => openStorage({ driver: "sqlite", path: ":memory:" }));
invitesConformance("sqlite :memory:", () => openStorage({ driver: "sqlite", path: ":memory:" }));
mucStoreConformance("sqlite :memory:", () => openStorage({ driver: "sqlite", path: ":memory:" }));
uploadsConformance("sqlite :memory:", () => openStorage({ driver: "sqlite", path: ":memory:" }));

interface MigrationRow {
  version: number;
  applied_at: number;
}

function migrationRows(path: string): MigrationRow[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], MigrationRow>("SELECT version, applied_at FROM schema_migrations ORDER BY version").all();
  } finally {
    db.close();
  }
}

describe("sqlite backend", () => {
  it("applies every migration once and records it", async () => {
    const path = freshFile();
    const before = Date.now();
    await (await openStorage({ driver: "sqlite", path })).close();
    const rows = migrationRows(path);
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
    assert.deepEqual(
      rows.map((r) => r.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
    assert.ok(rows.every((r) => r.applied_at >= before && r.applied_at <= Date.now()));

    // Reopening applies nothing again: same rows, same timestamps.
    await (await openStorage({ driver: "sqlite", path })).close();
    assert.deepEqual(migrationRows(path), rows);
  });

  it("applies only the pending migrations of an older database", () => {
    const path = freshFile();
    openDatabase(path, ["CREATE TABLE t1 (a INTEGER)"]).close();
    const db = openDatabase(path, ["CREATE TABLE t1 (a INTEGER)", "CREATE TABLE t2 (b INTEGER)"]);
    const versions = db
      .prepare<[], { version: number }>("SELECT version FROM schema_migrations ORDER BY version")
      .all();
    assert.deepEqual(
      versions.map((r) => r.version),
      [1, 2],
    );
    assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 't2'").get());
    db.close();
  });

  it("rolls back every migration of an open that fails", () => {
    const path = freshFile();
    assert.throws(() => openDatabase(path, ["CREATE TABLE t1 (a INTEGER)", "THIS IS NOT SQL"]), /syntax error/);
    const db = new Database(path);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 't1'").get(), undefined);
    db.close();
  });

  it("refuses a database from a newer version with a clear error and leaves it untouched", async () => {
    const path = freshFile();
    await (await openStorage({ driver: "sqlite", path })).close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(SCHEMA_VERSION + 1, 1);
    raw.close();
    const rows = migrationRows(path);

    await assert.rejects(openStorage({ driver: "sqlite", path }), (err: unknown) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.equal(err.found, SCHEMA_VERSION + 1);
      assert.equal(err.supported, SCHEMA_VERSION);
      assert.match(err.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than`));
      assert.match(err.message, /upgrade Hearth/);
      assert.ok(err.message.includes(path));
      return true;
    });
    assert.deepEqual(migrationRows(path), rows);
  });

  it("keeps all data and the roster version across a reopen", async () => {
    const path = freshFile();
    let storage = await openStorage({ driver: "sqlite", path });
    const account = await storage.accounts.create("example.com", "juliet", {});
    await storage.accounts.setLastSeen("example.com", "juliet", 42, "away");
    const item = {
      jid: "romeo@example.net",
      name: "Romeo",
      subscription: "both" as const,
      askOut: false,
      askIn: true,
      approved: false,
      groups: ["Friends"],
      pendingInStanza: "<presence type='subscribe'/>",
    };
    const version = await storage.roster.setItem("example.com", "juliet", item);
    await storage.offline.push("example.com", "juliet", "<message/>", 7);
    await storage.kv.set("example.com", "juliet", "vcard", "", "<vCard/>");
    const messages = await storage.offline.peek("example.com", "juliet");
    await storage.close();

    storage = await openStorage({ driver: "sqlite", path });
    try {
      assert.deepEqual(await storage.accounts.get("example.com", "juliet"), {
        ...account,
        lastSeen: 42,
        lastStatus: "away",
      });
      assert.deepEqual(await storage.roster.get("example.com", "juliet"), { version, items: [item] });
      assert.deepEqual(await storage.offline.peek("example.com", "juliet"), messages);
      assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), "<vCard/>");
      const next = await storage.roster.setItem("example.com", "juliet", { ...item, name: "R" });
      assert.ok(BigInt(next) > BigInt(version));
    } finally {
      await storage.close();
    }
  });

  it("sets WAL, synchronous=NORMAL, foreign keys and a busy timeout", () => {
    const db = openDatabase(freshFile());
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("synchronous", { simple: true }), 1); // 1 = NORMAL
      assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
      assert.ok((db.pragma("busy_timeout", { simple: true }) as number) >= 1000);
    } finally {
      db.close();
    }
  });

  it("reports its kind", async () => {
    const storage = await openStorage({ driver: "sqlite", path: ":memory:" });
    assert.equal(storage.kind, "sqlite");
    await storage.close();
  });
});
