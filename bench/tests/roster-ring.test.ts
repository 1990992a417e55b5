import assert from "node:assert/strict";
import { test } from "node:test";
import { rosterOf } from "../peers/types.ts";

test("ring rosters are symmetric, of the requested size, without self or duplicates", () => {
  for (const [users, size] of [
    [500, 50],
    [10, 50],
    [7, 4],
    [2, 1],
    [4, 3],
  ] as const) {
    for (let i = 1; i <= users; i++) {
      const r = rosterOf(i, users, size);
      assert.equal(r.length, Math.min(size, users - 1));
      assert.equal(new Set(r).size, r.length);
      assert.ok(!r.includes(i));
      for (const k of r) assert.ok(rosterOf(k, users, size).includes(i), `${i} in ${k}'s roster`);
    }
  }
});
