import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { AlreadyExistsError, type Storage } from "../../src/storage/types.ts";
import type { UploadRecord } from "../../src/storage/uploads.ts";

function upload(id: string, fields: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id,
    host: "example.com",
    username: "juliet",
    filename: `${id}.png`,
    size: 100,
    contentType: "image/png",
    createdAt: 1_700_000_000_000,
    ...fields,
  };
}

/** The behaviour every backend's `UploadStore` must have; call once per backend. */
export function uploadsConformance(name: string, open: () => Promise<Storage>): void {
  describe(`uploads store conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    it("stores a record and reads it back unchanged", async () => {
      const r = upload("a1", { filename: "Ünïcode résumé.pdf", contentType: "application/pdf", size: 5_000_000_000 });
      await storage.uploads.add(r);
      assert.deepEqual(await storage.uploads.get("a1"), r);
      assert.equal(await storage.uploads.get("nope"), null);
    });

    it("refuses a second record with the same id and keeps the first", async () => {
      await storage.uploads.add(upload("dup", { size: 1 }));
      await assert.rejects(storage.uploads.add(upload("dup", { size: 2, username: "romeo" })), AlreadyExistsError);
      assert.equal((await storage.uploads.get("dup"))?.size, 1);
    });

    it("sums usage per account and in total", async () => {
      assert.deepEqual(await storage.uploads.usage("example.com", "juliet"), { files: 0, bytes: 0 });
      assert.deepEqual(await storage.uploads.totals(), { files: 0, bytes: 0 });
      await storage.uploads.add(upload("u1", { size: 10 }));
      await storage.uploads.add(upload("u2", { size: 32 }));
      await storage.uploads.add(upload("u3", { size: 7, username: "romeo" }));
      await storage.uploads.add(upload("u4", { size: 1, host: "example.net" }));
      assert.deepEqual(await storage.uploads.usage("example.com", "juliet"), { files: 2, bytes: 42 });
      assert.deepEqual(await storage.uploads.usage("example.com", "romeo"), { files: 1, bytes: 7 });
      assert.deepEqual(await storage.uploads.usage("example.net", "juliet"), { files: 1, bytes: 1 });
      assert.deepEqual(await storage.uploads.totals(), { files: 4, bytes: 50 });
    });

    it("lists an account's uploads oldest first", async () => {
      await storage.uploads.add(upload("late", { createdAt: 3 }));
      await storage.uploads.add(upload("early", { createdAt: 1 }));
      await storage.uploads.add(upload("other", { createdAt: 2, username: "romeo" }));
      assert.deepEqual(
        (await storage.uploads.listUser("example.com", "juliet")).map((r) => r.id),
        ["early", "late"],
      );
      assert.deepEqual(await storage.uploads.listUser("example.com", "nobody"), []);
    });

    it("lists uploads older than a time, oldest first, up to a limit", async () => {
      for (let i = 0; i < 5; i++) await storage.uploads.add(upload(`t${i}`, { createdAt: 1000 + i }));
      assert.deepEqual(
        (await storage.uploads.listOlderThan(1003, 10)).map((r) => r.id),
        ["t0", "t1", "t2"],
      );
      assert.deepEqual(
        (await storage.uploads.listOlderThan(1003, 2)).map((r) => r.id),
        ["t0", "t1"],
      );
      assert.deepEqual(await storage.uploads.listOlderThan(1000, 10), []);
    });

    it("removes records and counts only those that existed", async () => {
      await storage.uploads.add(upload("r1"));
      await storage.uploads.add(upload("r2"));
      assert.equal(await storage.uploads.remove(["r1", "missing"]), 1);
      assert.equal(await storage.uploads.get("r1"), null);
      assert.ok(await storage.uploads.get("r2"));
      assert.equal(await storage.uploads.remove([]), 0);
      // A removed id is free again.
      await storage.uploads.add(upload("r1"));
      assert.ok(await storage.uploads.get("r1"));
    });
  });
}
