import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Jid,
  JidError,
  makeJid,
  normalizeDomain,
  normalizeLocal,
  normalizeResource,
  parseJid,
  tryParseJid,
} from "../../src/jid/jid.ts";

describe("parseJid: structure (RFC 7622 §3.1)", () => {
  it("splits full, bare and domain JIDs", () => {
    const full = parseJid("juliet@example.com/balcony");
    assert.deepEqual([full.local, full.domain, full.resource], ["juliet", "example.com", "balcony"]);
    assert.equal(full.isBare, false);
    assert.equal(full.isDomain, false);
    const domain = parseJid("example.com");
    assert.deepEqual([domain.local, domain.domain, domain.resource], ["", "example.com", ""]);
    assert.equal(domain.isDomain, true);
    const domainWithResource = parseJid("example.com/x");
    assert.equal(domainWithResource.isDomain, false);
    assert.equal(domainWithResource.toString(), "example.com/x");
  });

  it("takes the resource from the first '/', and the localpart from the first '@' before it", () => {
    const j = parseJid("a@b/c@d/e");
    assert.deepEqual([j.local, j.domain, j.resource], ["a", "b", "c@d/e"]);
    const k = parseJid("b/c@d");
    assert.deepEqual([k.local, k.domain, k.resource], ["", "b", "c@d"]);
    assert.throws(() => parseJid("a@b@c"), JidError);
  });

  it("rejects empty parts", () => {
    assert.throws(() => parseJid(""), /empty domainpart/);
    assert.throws(() => parseJid("@example.com"), /empty localpart/);
    assert.throws(() => parseJid("juliet@"), /empty domainpart/);
    assert.throws(() => parseJid("example.com/"), /empty resourcepart/);
    assert.throws(() => parseJid("juliet@/r"), /empty domainpart/);
  });

  it("returns null from tryParseJid for invalid input, and a Jid otherwise", () => {
    assert.equal(tryParseJid("@x"), null);
    assert.equal(tryParseJid("a b@x"), null);
    assert.equal(tryParseJid("x@y")?.toString(), "x@y");
  });

  it("returns the cached Jid for a repeated input", () => {
    assert.equal(parseJid("Cached@Example.com/r"), parseJid("Cached@Example.com/r"));
  });

  it("reports the same error again for a cached invalid input", () => {
    assert.throws(() => parseJid("juliet@"), /empty domainpart/);
    assert.throws(
      () => parseJid("juliet@"),
      (err: unknown) => err instanceof JidError,
    );
  });
});

describe("Jid value", () => {
  it("serializes, compares and derives bare JIDs", () => {
    const full = parseJid("Juliet@Example.com/Balcony");
    assert.equal(full.toString(), "juliet@example.com/Balcony");
    assert.equal(`${full}`, "juliet@example.com/Balcony");
    assert.equal(JSON.stringify({ jid: full }), '{"jid":"juliet@example.com/Balcony"}');
    assert.equal(full.bareString, "juliet@example.com");
    assert.equal(full.bare.toString(), "juliet@example.com");
    assert.equal(full.bare, full.bare, "bare is cached");
    assert.equal(full.bare.bare, full.bare, "bare of bare is itself");
    assert.equal(full.bare.isBare, true);
    assert.ok(full.equals(parseJid("JULIET@example.COM/Balcony")));
    assert.ok(!full.equals(parseJid("juliet@example.com/balcony")));
    assert.ok(!full.equals(full.bare));
    assert.equal(parseJid("example.com").bareString, "example.com");
  });

  it("withResource normalizes the new resource and rejects invalid ones", () => {
    const j = parseJid("romeo@example.net/a").withResource("Orchard\u00a0Wall");
    assert.equal(j.toString(), "romeo@example.net/Orchard Wall");
    assert.throws(() => j.withResource(""), /empty resourcepart/);
    assert.throws(() => j.withResource("a\u0000"), /invalid resourcepart/);
  });

  it("makeJid normalizes each part; empty local/resource mean none", () => {
    assert.equal(makeJid("Romeo", "EXAMPLE.net", "Home").toString(), "romeo@example.net/Home");
    assert.equal(makeJid("", "example.net").toString(), "example.net");
    assert.throws(() => makeJid("a@b", "example.net"), /prohibited character '@'/);
    assert.throws(() => makeJid("a", "bad domain"), JidError);
    assert.ok(makeJid("a", "b") instanceof Jid);
  });
});

describe("localpart (UsernameCaseMapped + RFC 7622 §3.3.1)", () => {
  it("case folds and width maps", () => {
    assert.equal(parseJid("ＪＵＬＩＥＴ@example.com").local, "juliet");
    assert.equal(normalizeLocal("ΣΤΙΓΜΑ"), "στιγμα");
    assert.equal(normalizeLocal("ÀÉÎ"), "àéî");
    assert.throws(() => normalizeLocal("Ǳ"), /U\+01F3/); // lowercases to a compatibility digraph
  });

  it("rejects the characters RFC 7622 prohibits, even when width-mapped", () => {
    for (const c of ['"', "&", "'", ":", "<", ">"]) {
      assert.throws(() => parseJid(`a${c}b@example.com`), new RegExp(`prohibited character '${c}'`));
    }
    assert.throws(() => normalizeLocal("a/b"), /prohibited character '\/'/);
    assert.throws(() => normalizeLocal("a＠b"), /prohibited character '@'/);
  });

  it("rejects spaces and symbols with the offending code point", () => {
    assert.throws(() => parseJid("a b@example.com"), /invalid localpart: disallowed character U\+0020/);
    assert.throws(() => parseJid("\u2603@example.com"), /U\+2603/);
  });

  it("enforces the 1023-byte limit on the normalized form", () => {
    assert.equal(normalizeLocal("a".repeat(1023)).length, 1023);
    assert.throws(() => normalizeLocal("a".repeat(1024)), /localpart too long/);
    assert.equal(normalizeLocal("é".repeat(511)).length, 511); // 1022 bytes
    assert.throws(() => normalizeLocal("é".repeat(512)), /localpart too long/); // 1024 bytes
    assert.throws(() => normalizeLocal("a".repeat(100_000)), /localpart too long/);
  });
});

describe("resourcepart (OpaqueString)", () => {
  it("keeps case and spaces", () => {
    assert.equal(parseJid("a@b/Hello World ").resource, "Hello World ");
    assert.equal(normalizeResource("ＡＢ"), "ＡＢ");
  });

  it("maps non-ASCII spaces and rejects controls", () => {
    assert.equal(normalizeResource("x\u2003y"), "x y");
    assert.throws(() => parseJid("a@b/x\ty"), /invalid resourcepart: disallowed character U\+0009/);
  });

  it("enforces the 1023-byte limit", () => {
    assert.equal(parseJid("a@b/" + "r".repeat(1023)).resource.length, 1023);
    assert.throws(() => parseJid("a@b/" + "r".repeat(1024)), /resourcepart too long/);
  });
});

describe("domainpart (RFC 7622 §3.2)", () => {
  it("lowercases and strips one trailing dot", () => {
    assert.equal(normalizeDomain("Example.COM"), "example.com");
    assert.equal(parseJid("a@example.com./r").toString(), "a@example.com/r");
    assert.throws(() => normalizeDomain("example.com.."), /empty label/);
    assert.throws(() => normalizeDomain("."), /empty domainpart/);
  });

  it("accepts bare hostnames", () => {
    assert.equal(normalizeDomain("chat-server"), "chat-server");
    assert.equal(normalizeDomain("localhost"), "localhost");
  });

  it("accepts IPv4 literals and canonicalizes bracketed IPv6 literals", () => {
    assert.equal(normalizeDomain("192.0.2.1"), "192.0.2.1");
    assert.equal(normalizeDomain("[::1]"), "[::1]");
    assert.equal(normalizeDomain("[2001:DB8:0:0:0:0:0:1]"), "[2001:db8::1]");
    assert.equal(parseJid("u@[2001:db8::0:1]/r").toString(), "u@[2001:db8::1]/r");
    assert.throws(() => normalizeDomain("[::1"), /invalid IPv6 literal/);
    assert.throws(() => normalizeDomain("[1.2.3.4]"), /invalid IPv6 literal/);
    assert.throws(() => normalizeDomain("[fe80::1%eth0]"), /invalid IPv6 literal/);
    assert.throws(() => normalizeDomain("::1"), JidError);
  });

  it("converts A-labels to U-labels so both forms are equal", () => {
    assert.equal(normalizeDomain("xn--mller-kva.de"), "müller.de");
    assert.equal(normalizeDomain("XN--MLLER-KVA.DE"), "müller.de");
    assert.equal(normalizeDomain("MÜLLER.de"), "müller.de");
    assert.equal(normalizeDomain("ｅｘａｍｐｌｅ．ｃｏｍ"), "example.com");
    assert.ok(parseJid("a@xn--mller-kva.de").equals(parseJid("A@Müller.DE")));
    assert.throws(() => normalizeDomain("xn--zz.de"), /invalid internationalized domainpart/);
  });

  it("rejects non-LDH labels and bad hyphens", () => {
    assert.throws(() => normalizeDomain("a_b.example"), /invalid character in domainpart/);
    assert.throws(() => normalizeDomain("-a.example"), /invalid character in domainpart/);
    assert.throws(() => normalizeDomain("a-.example"), /invalid character in domainpart/);
    assert.throws(() => normalizeDomain("a b.example"), JidError);
    assert.throws(() => normalizeDomain("a..example"), /empty label/);
  });

  it("enforces label and total length limits", () => {
    assert.equal(normalizeDomain("a".repeat(63) + ".com"), "a".repeat(63) + ".com");
    assert.throws(() => normalizeDomain("a".repeat(64) + ".com"), /label too long/);
    const long = Array.from({ length: 16 }, () => "a".repeat(63)).join("."); // 1023 bytes
    assert.equal(normalizeDomain(long), long);
    assert.throws(() => normalizeDomain(long + ".a"), /domainpart too long/);
  });
});
