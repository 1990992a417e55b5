import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Invite } from "../../src/storage/invites.ts";
import { AlreadyExistsError, type Storage } from "../../src/storage/types.ts";

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

function invite(token: string, fields: Partial<Invite> = {}): Invite {
  return {
    token,
    host: "example.com",
    creator: "romeo@example.com",
    username: null,
    roster: ["romeo@example.com"],
    allowRegistration: true,
    maxUses: 1,
    uses: 0,
    usedBy: [],
    createdAt: T0,
    expiresAt: T0 + 7 * DAY,
    ...fields,
  };
}

/** The behaviour every backend's `InviteStore` must have; call once per backend, like `storageConformance`. */
export function invitesConformance(name: string, open: () => Promise<Storage>): void {
  describe(`invite store conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    it("stores an invitation and reads back every field", async () => {
      const inv = invite("tok1", { username: "juliet", roster: ["romeo@example.com", "nurse@example.com"] });
      await storage.invites.create(inv);
      assert.deepEqual(await storage.invites.get("tok1"), inv);
      assert.equal(await storage.invites.get("nope"), null);
      const cli = invite("tok2", { creator: null, roster: [], allowRegistration: false, maxUses: 5 });
      await storage.invites.create(cli);
      assert.deepEqual(await storage.invites.get("tok2"), cli);
    });

    it("refuses a second invitation with the same token and keeps the first", async () => {
      await storage.invites.create(invite("dup"));
      await assert.rejects(storage.invites.create(invite("dup", { maxUses: 9 })), AlreadyExistsError);
      assert.equal((await storage.invites.get("dup"))?.maxUses, 1);
    });

    it("counts uses up to the limit, records who used it, and then refuses", async () => {
      await storage.invites.create(invite("multi", { maxUses: 2 }));
      const first = await storage.invites.use("multi", "juliet@example.com");
      assert.equal(first?.uses, 1);
      assert.deepEqual(first?.usedBy, ["juliet@example.com"]);
      const second = await storage.invites.use("multi", "tybalt@example.com");
      assert.equal(second?.uses, 2);
      assert.deepEqual(second?.usedBy, ["juliet@example.com", "tybalt@example.com"]);
      assert.equal(await storage.invites.use("multi", "mercutio@example.com"), null, "used up");
      assert.equal(await storage.invites.use("missing", "juliet@example.com"), null);
      assert.deepEqual((await storage.invites.get("multi"))?.usedBy, ["juliet@example.com", "tybalt@example.com"]);
    });

    it("lets exactly one of many concurrent redemptions of a single-use token win", async () => {
      await storage.invites.create(invite("once"));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => storage.invites.use("once", `user${i}@example.com`)),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal((await storage.invites.get("once"))?.uses, 1);
    });

    it("lists by host in creation order, finds reserved usernames, revokes", async () => {
      await storage.invites.create(invite("b", { createdAt: T0 + 2 }));
      await storage.invites.create(invite("a", { createdAt: T0 + 1, username: "juliet" }));
      await storage.invites.create(invite("c", { createdAt: T0 + 3, host: "other.example" }));
      assert.deepEqual(
        (await storage.invites.list("example.com")).map((i) => i.token),
        ["a", "b"],
      );
      assert.deepEqual(
        (await storage.invites.list()).map((i) => i.token),
        ["a", "b", "c"],
      );
      assert.deepEqual(
        (await storage.invites.byUsername("example.com", "juliet")).map((i) => i.token),
        ["a"],
      );
      assert.deepEqual(await storage.invites.byUsername("other.example", "juliet"), []);
      assert.equal(await storage.invites.delete("a"), true);
      assert.equal(await storage.invites.delete("a"), false);
      assert.equal(await storage.invites.get("a"), null);
    });

    it("deletes what one account created, and prunes expired invitations only", async () => {
      await storage.invites.create(invite("r1"));
      await storage.invites.create(invite("r2", { expiresAt: T0 + DAY }));
      await storage.invites.create(invite("n1", { creator: "nurse@example.com" }));
      await storage.invites.create(invite("admin", { creator: null, expiresAt: T0 + DAY }));
      assert.equal(await storage.invites.deleteByCreator("romeo@example.com"), 2);
      assert.deepEqual(
        (await storage.invites.list()).map((i) => i.token),
        ["admin", "n1"],
      );
      assert.equal(await storage.invites.prune(T0 + DAY - 1), 0);
      assert.equal(await storage.invites.prune(T0 + DAY), 1, "expired at exactly now");
      assert.deepEqual(
        (await storage.invites.list()).map((i) => i.token),
        ["n1"],
      );
    });
  });
}
