import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type ArchiveEntry, ArchiveIdNotFoundError, type ArchiveRef } from "../../src/storage/archive.ts";
import type { Storage } from "../../src/storage/types.ts";

const ALICE: ArchiveRef = { host: "example.com", owner: "alice", kind: "user" };
const BOB: ArchiveRef = { host: "example.com", owner: "bob", kind: "user" };
/** Same owner name, other kind and other host: three distinct archives. */
const ROOM: ArchiveRef = { host: "conference.example.com", owner: "alice", kind: "room" };
const OTHER_HOST: ArchiveRef = { host: "example.net", owner: "alice", kind: "user" };

const T0 = Date.UTC(2024, 0, 1);

function entry(n: number, fields: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return {
    id: `id-${n}`,
    timestamp: T0 + n * 1000,
    with: n % 2 === 0 ? "bob@example.com/phone" : "carol@example.net",
    stanza: `<message type="chat"><body>m${n}</body></message>`,
    ...fields,
  };
}

const ids = (entries: ArchiveEntry[]) => entries.map((e) => e.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `id-${from + i}`);

/**
 * The behaviour every `ArchiveStore` must have (XEP-0313 semantics: arrival order, RSM paging, filters).
 * `open` must return a backend with no archive data; each test opens its own and closes it.
 */
export function archiveConformance(name: string, open: () => Promise<Storage>): void {
  describe(`archive store conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    /** Appends entries 1..n to alice's archive. */
    async function fill(n: number): Promise<void> {
      for (let i = 1; i <= n; i++) await storage.archive.append(ALICE, entry(i));
    }

    it("returns an appended entry exactly as given, including big and non-ASCII stanzas", async () => {
      const big = `<message><body>${"😀 ñ &amp; 中文 \r\n\t".repeat(20_000)}</body></message>`;
      const e = entry(1, { stanza: big, with: "bob@example.com/a/b" });
      await storage.archive.append(ALICE, e);
      assert.deepEqual(await storage.archive.get(ALICE, "id-1"), e);
      assert.equal(await storage.archive.get(ALICE, "nope"), null);
      assert.equal(await storage.archive.get(BOB, "id-1"), null, "archives are separate");
    });

    it("keeps arrival order, not timestamp order", async () => {
      await storage.archive.append(ALICE, entry(1, { timestamp: T0 + 5000 }));
      await storage.archive.append(ALICE, entry(2, { timestamp: T0 + 5000 }));
      await storage.archive.append(ALICE, entry(3, { timestamp: T0 })); // clock went back
      const page = await storage.archive.query(ALICE, { limit: 10 });
      assert.deepEqual(ids(page.entries), ["id-1", "id-2", "id-3"]);
      assert.equal(page.complete, true);
      assert.equal(page.count, 3);
      assert.equal(page.index, 0);
    });

    it("pages forwards with after and backwards with before, reporting index, count and completeness", async () => {
      await fill(10);
      let page = await storage.archive.query(ALICE, { limit: 4 });
      assert.deepEqual(ids(page.entries), range(1, 4));
      assert.deepEqual([page.complete, page.count, page.index], [false, 10, 0]);
      page = await storage.archive.query(ALICE, { limit: 4, after: "id-4" });
      assert.deepEqual(ids(page.entries), range(5, 8));
      assert.deepEqual([page.complete, page.index], [false, 4]);
      page = await storage.archive.query(ALICE, { limit: 4, after: "id-8" });
      assert.deepEqual(ids(page.entries), range(9, 10));
      assert.deepEqual([page.complete, page.count, page.index], [true, 10, 8]);
      page = await storage.archive.query(ALICE, { limit: 4, after: "id-10" });
      assert.deepEqual([page.entries.length, page.complete, page.count, page.index], [0, true, 10, undefined]);

      // The last page (RSM <before/>), then the pages before it, still in chronological order.
      page = await storage.archive.query(ALICE, { limit: 4, fromEnd: true });
      assert.deepEqual(ids(page.entries), range(7, 10));
      assert.deepEqual([page.complete, page.index], [false, 6]);
      page = await storage.archive.query(ALICE, { limit: 4, before: "id-7" });
      assert.deepEqual(ids(page.entries), range(3, 6));
      assert.deepEqual([page.complete, page.index], [false, 2]);
      page = await storage.archive.query(ALICE, { limit: 4, before: "id-3" });
      assert.deepEqual(ids(page.entries), range(1, 2));
      assert.deepEqual([page.complete, page.index], [true, 0]);
    });

    it("skips entries with offset (RSM index)", async () => {
      await fill(6);
      const page = await storage.archive.query(ALICE, { limit: 2, offset: 3 });
      assert.deepEqual(ids(page.entries), range(4, 5));
      assert.deepEqual([page.complete, page.index, page.count], [false, 3, 6]);
    });

    it("counts without returning entries when the limit is 0", async () => {
      await fill(3);
      const page = await storage.archive.query(ALICE, { limit: 0 });
      assert.deepEqual([page.entries.length, page.count, page.complete], [0, 3, false]);
      const empty = await storage.archive.query(BOB, { limit: 0 });
      assert.deepEqual([empty.count, empty.complete], [0, true]);
    });

    it("filters on with: a bare JID matches every resource, a full JID only itself", async () => {
      await storage.archive.append(ALICE, entry(1, { with: "bob@example.com" }));
      await storage.archive.append(ALICE, entry(2, { with: "bob@example.com/phone" }));
      await storage.archive.append(ALICE, entry(3, { with: "bob@example.com/laptop" }));
      await storage.archive.append(ALICE, entry(4, { with: "bob@example.com.evil/x" }));
      await storage.archive.append(ALICE, entry(5, { with: "carol@example.com" }));
      let page = await storage.archive.query(ALICE, { limit: 10, with: "bob@example.com" });
      assert.deepEqual(ids(page.entries), range(1, 3));
      assert.equal(page.count, 3);
      page = await storage.archive.query(ALICE, { limit: 10, with: "bob@example.com/phone" });
      assert.deepEqual(ids(page.entries), ["id-2"]);
      page = await storage.archive.query(ALICE, { limit: 10, with: "dave@example.com" });
      assert.deepEqual([page.entries.length, page.count, page.complete], [0, 0, true]);
      assert.equal((await storage.archive.get(ALICE, "id-2"))?.with, "bob@example.com/phone");
    });

    it("filters on time with inclusive bounds", async () => {
      await fill(6);
      const page = await storage.archive.query(ALICE, { limit: 10, start: T0 + 2000, end: T0 + 4000 });
      assert.deepEqual(ids(page.entries), range(2, 4));
      assert.equal(page.count, 3);
    });

    it("filters on afterId/beforeId (counted) and pages inside them", async () => {
      await fill(10);
      let page = await storage.archive.query(ALICE, { limit: 3, afterId: "id-2", beforeId: "id-9" });
      assert.deepEqual(ids(page.entries), range(3, 5));
      assert.deepEqual([page.count, page.index, page.complete], [6, 0, false]);
      page = await storage.archive.query(ALICE, { limit: 3, afterId: "id-2", beforeId: "id-9", fromEnd: true });
      assert.deepEqual(ids(page.entries), range(6, 8));
      assert.deepEqual([page.index, page.complete], [3, false]);
      page = await storage.archive.query(ALICE, { limit: 3, afterId: "id-2", beforeId: "id-9", after: "id-5" });
      assert.deepEqual(ids(page.entries), range(6, 8));
      assert.equal(page.complete, true);
    });

    it("returns only the requested ids, in archive order, combined with other filters", async () => {
      await fill(6);
      let page = await storage.archive.query(ALICE, { limit: 10, ids: ["id-5", "id-2", "id-5"] });
      assert.deepEqual(ids(page.entries), ["id-2", "id-5"]);
      assert.equal(page.count, 2);
      page = await storage.archive.query(ALICE, { limit: 10, ids: ["id-2", "id-3"], with: "bob@example.com" });
      assert.deepEqual(ids(page.entries), ["id-2"]);
    });

    it("rejects ids that are not in this archive", async () => {
      await fill(3);
      await storage.archive.append(BOB, entry(9));
      for (const q of [
        { after: "id-9" },
        { before: "nope" },
        { afterId: "id-9" },
        { beforeId: "nope" },
        { ids: ["id-1", "id-9"] },
      ]) {
        await assert.rejects(storage.archive.query(ALICE, { limit: 10, ...q }), (err: unknown) => {
          assert.ok(err instanceof ArchiveIdNotFoundError, `${JSON.stringify(q)}: ${err}`);
          return true;
        });
      }
    });

    it("keeps archives apart by host, kind and owner", async () => {
      await storage.archive.append(ALICE, entry(1));
      await storage.archive.append(ROOM, entry(1, { with: "witch@example.com" }));
      await storage.archive.append(OTHER_HOST, entry(1, { stanza: "<message/>" }));
      for (const ref of [ALICE, ROOM, OTHER_HOST]) {
        const page = await storage.archive.query(ref, { limit: 10 });
        assert.equal(page.count, 1, JSON.stringify(ref));
      }
      assert.equal((await storage.archive.get(ROOM, "id-1"))?.with, "witch@example.com");
      assert.equal((await storage.archive.get(OTHER_HOST, "id-1"))?.stanza, "<message/>");
    });

    it("replaces the stanza of an entry and keeps its place", async () => {
      await fill(3);
      assert.equal(await storage.archive.replace(ALICE, "id-2", "<message><retracted/></message>"), true);
      assert.equal(await storage.archive.replace(ALICE, "nope", "<message/>"), false);
      assert.equal(await storage.archive.replace(BOB, "id-2", "<message/>"), false);
      const page = await storage.archive.query(ALICE, { limit: 10 });
      assert.deepEqual(ids(page.entries), range(1, 3));
      assert.equal(page.entries[1]?.stanza, "<message><retracted/></message>");
      assert.equal(page.entries[1]?.timestamp, T0 + 2000);
    });

    it("prunes old entries in one archive or in all of them", async () => {
      await fill(5);
      for (let i = 1; i <= 5; i++) await storage.archive.append(BOB, entry(i));
      assert.equal(await storage.archive.prune(ALICE, T0 + 3000), 2);
      assert.deepEqual(ids((await storage.archive.query(ALICE, { limit: 10 })).entries), range(3, 5));
      assert.equal((await storage.archive.query(BOB, { limit: 10 })).count, 5);
      assert.equal(await storage.archive.prune(null, T0 + 4000), 1 + 3);
      assert.deepEqual(ids((await storage.archive.query(ALICE, { limit: 10 })).entries), range(4, 5));
      assert.deepEqual(ids((await storage.archive.query(BOB, { limit: 10 })).entries), range(4, 5));
      // New entries still come after the survivors.
      await storage.archive.append(ALICE, entry(0, { id: "late", timestamp: T0 }));
      assert.deepEqual(ids((await storage.archive.query(ALICE, { limit: 10 })).entries), ["id-4", "id-5", "late"]);
    });

    it("deletes a whole archive and nothing else", async () => {
      await fill(3);
      await storage.archive.append(BOB, entry(1));
      await storage.archive.append(ROOM, entry(1));
      await storage.archive.deleteArchive(ALICE);
      assert.equal((await storage.archive.query(ALICE, { limit: 10 })).count, 0);
      assert.equal((await storage.archive.query(BOB, { limit: 10 })).count, 1);
      assert.equal((await storage.archive.query(ROOM, { limit: 10 })).count, 1);
    });
  });
}
