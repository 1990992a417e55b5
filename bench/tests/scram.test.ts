import assert from "node:assert/strict";
import { test } from "node:test";
import { ScramClient } from "../client/scram.ts";

test("SCRAM-SHA-1 matches the RFC 5802 §5 example exchange", () => {
  const c = new ScramClient("sha1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
  assert.equal(c.first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  const final = c.final("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
  assert.equal(final, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  assert.equal(c.verify("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), true);
  assert.equal(c.verify("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), false);
});

test("SCRAM-SHA-256 matches the RFC 7677 §3 example exchange", () => {
  const c = new ScramClient("sha256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
  const sf = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  assert.equal(
    c.final(sf),
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  );
  assert.equal(c.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), true);
});

test("SCRAM rejects a server nonce that does not extend the client nonce", () => {
  const c = new ScramClient("sha1", "user", "pencil", "abc");
  assert.throws(() => c.final("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096"), /nonce/);
});

test("SCRAM escapes ',' and '=' in the username", () => {
  assert.equal(new ScramClient("sha1", "a=b,c", "p", "n").first(), "n,,n=a=3Db=2Cc,r=n");
});
