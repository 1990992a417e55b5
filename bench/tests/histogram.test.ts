import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, summarize } from "../lib/histogram.ts";

test("quantiles stay within the bucket resolution (1/64) over a wide range", () => {
  const h = new Histogram();
  for (let v = 1; v <= 1_000_000; v++) h.record(v);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = q * 1_000_000;
    assert.ok(Math.abs(h.quantile(q) - exact) / exact < 1 / 64, `q=${q}: ${h.quantile(q)} vs ${exact}`);
  }
  assert.equal(h.quantile(1), 1_000_000);
  assert.equal(h.count, 1_000_000);
});

test("small values are exact", () => {
  const h = new Histogram();
  for (const v of [3, 3, 7, 100]) h.record(v);
  assert.equal(h.quantile(0.5), 3);
  assert.equal(h.quantile(0.75), 7);
  assert.equal(h.max, 100);
});

test("merging serialized parts equals recording everything in one", () => {
  const all = new Histogram();
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = Math.floor(Math.random() * 50_000);
    all.record(v);
    (i % 2 ? a : b).record(v);
  }
  const merged = Histogram.from([JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b))]);
  assert.deepEqual(summarize(merged), summarize(all));
});
