import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextH, parseH, UnackedQueue } from "../../src/modules/sm/queue.ts";
import { xml } from "../../src/xml/element.ts";

const MAX = 2 ** 32 - 1;

describe("XEP-0198 sequence numbers and the unacked queue", () => {
  it("wraps h at 2^32 (§4)", () => {
    assert.equal(nextH(0), 1);
    assert.equal(nextH(MAX - 1), MAX);
    assert.equal(nextH(MAX), 0);
  });

  it("parses h as an unsigned 32-bit decimal", () => {
    assert.equal(parseH("0"), 0);
    assert.equal(parseH(String(MAX)), MAX);
    for (const bad of [undefined, "", "-1", "1.5", "0x10", " 1", String(MAX + 1), "99999999999"]) {
      assert.equal(parseH(bad), null, `${bad}`);
    }
  });

  it("releases acknowledged stanzas in order and refuses acks beyond what was sent", () => {
    const q = new UnackedQueue();
    for (let i = 1; i <= 5; i++) q.push(xml("message", { id: `m${i}` }));
    assert.equal(q.sent, 5);
    assert.equal(q.ack(6), false);
    assert.equal(q.length, 5, "a refused ack changes nothing");
    assert.equal(q.ack(2), true);
    assert.deepEqual(
      q.entries().map((u) => u.stanza.attrs.id),
      ["m3", "m4", "m5"],
    );
    assert.equal(q.ack(2), true, "repeating an ack is harmless");
    assert.equal(q.ack(5), true);
    assert.equal(q.length, 0);
    assert.equal(q.ack(1), false, "going backwards acknowledges ~2^32 stanzas");
  });

  it("counts across the wrap", () => {
    const q = new UnackedQueue();
    q.acked = MAX - 1;
    for (let i = 0; i < 4; i++) q.push(xml("message", { id: `w${i}` }));
    assert.equal(q.sent, 2);
    assert.equal(q.released(MAX), 1);
    assert.equal(q.released(1), 3);
    assert.equal(q.released(3), null);
    assert.equal(q.ack(0), true);
    assert.deepEqual(
      q.takeAll().map((u) => u.stanza.attrs.id),
      ["w2", "w3"],
    );
  });
});
