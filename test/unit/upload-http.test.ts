import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseUploadPath } from "../../src/upload/http.ts";
import {
  guessContentType,
  MAX_FILENAME_BYTES,
  normalizeContentType,
  sanitizeFilename,
  showInline,
  typeAllowed,
} from "../../src/upload/names.ts";
import { parseRange } from "../../src/upload/range.ts";
import { signSlot, verifySlot } from "../../src/upload/signing.ts";

const ID = "abcdefghijklmnopqrstuv";

describe("upload: Range header (RFC 9110 §14)", () => {
  it("parses single ranges and clamps the end to the file", () => {
    assert.deepEqual(parseRange("bytes=0-4", 20), { start: 0, end: 4 });
    assert.deepEqual(parseRange("bytes=15-", 20), { start: 15, end: 19 });
    assert.deepEqual(parseRange("bytes=10-999", 20), { start: 10, end: 19 });
    assert.deepEqual(parseRange("bytes=-3", 20), { start: 17, end: 19 });
    assert.deepEqual(parseRange("bytes=-300", 20), { start: 0, end: 19 });
    assert.deepEqual(parseRange(" bytes = 1 - 2 ", 20), { start: 1, end: 2 });
  });

  it("reports ranges no byte of the file satisfies", () => {
    assert.equal(parseRange("bytes=20-", 20), "unsatisfiable");
    assert.equal(parseRange("bytes=25-30", 20), "unsatisfiable");
    assert.equal(parseRange("bytes=-0", 20), "unsatisfiable");
    assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
  });

  it("ignores what it does not serve: no header, other units, several ranges, malformed or inverted specs", () => {
    for (const h of [undefined, "items=0-1", "bytes=0-1,3-4", "bytes=a-b", "bytes=-", "bytes=5-2", "bytes 0-1"]) {
      assert.equal(parseRange(h, 20), null, String(h));
    }
  });
});

describe("upload: names", () => {
  it("keeps the last path segment of a file name, without controls and bidi overrides", () => {
    assert.equal(sanitizeFilename("photo.jpg"), "photo.jpg");
    assert.equal(sanitizeFilename("../../etc/passwd"), "passwd");
    assert.equal(sanitizeFilename("C:\\Users\\me\\cv.pdf"), "cv.pdf");
    assert.equal(sanitizeFilename("a\u0000b\nc.txt"), "abc.txt");
    assert.equal(sanitizeFilename("invoice\u202Efdp.exe"), "invoicefdp.exe");
    assert.equal(sanitizeFilename("Ünïcødé 写真.png"), "Ünïcødé 写真.png");
    for (const bad of ["", "  ", ".", "..", "dir/", "a/.."]) assert.equal(sanitizeFilename(bad), null, bad);
  });

  it("shortens long names to 200 bytes, keeping the extension and whole characters", () => {
    const long = sanitizeFilename(`${"é".repeat(300)}.jpeg`) as string;
    assert.ok(Buffer.byteLength(long) <= MAX_FILENAME_BYTES);
    assert.ok(long.endsWith(".jpeg"));
    assert.ok(!long.includes("\uFFFD"));
  });

  it("shortens a name as long as a stanza allows at once (was quadratic: a minutes-long event-loop freeze)", () => {
    const started = performance.now();
    const long = sanitizeFilename(`${"0".repeat(250_000)}.png`) as string;
    assert.ok(performance.now() - started < 200, `took ${performance.now() - started} ms`);
    assert.equal(long, `${"0".repeat(MAX_FILENAME_BYTES - 4)}.png`);
    const emoji = sanitizeFilename("😀".repeat(100_000)) as string;
    assert.equal(emoji, "😀".repeat(MAX_FILENAME_BYTES / 4));
  });

  it("normalizes content types and matches them against the allowed list", () => {
    assert.equal(normalizeContentType("Image/PNG; charset=binary"), "image/png");
    assert.equal(normalizeContentType("text"), null);
    assert.equal(normalizeContentType("text/plain\r\nX: y"), null);
    assert.ok(typeAllowed("text/plain", []));
    assert.ok(typeAllowed("image/png", ["image/*"]));
    assert.ok(typeAllowed("application/pdf", ["Application/PDF"]));
    assert.ok(!typeAllowed("imagex/png", ["image/*"]));
    assert.ok(!typeAllowed("text/plain", ["image/*", "application/pdf"]));
  });

  it("guesses types from extensions and shows only harmless types inline", () => {
    assert.equal(guessContentType("A.JPG"), "image/jpeg");
    assert.equal(guessContentType("noext"), "application/octet-stream");
    assert.equal(guessContentType("x.exe"), "application/octet-stream");
    assert.ok(showInline("image/png"));
    assert.ok(showInline("video/mp4"));
    for (const t of ["text/html", "image/svg+xml", "application/xhtml+xml", "application/octet-stream"]) {
      assert.ok(!showInline(t), t);
    }
  });
});

describe("upload: URL paths and signatures", () => {
  it("accepts exactly <slot id>/<file name> and decodes the name", () => {
    assert.deepEqual(parseUploadPath(`${ID}/a%20b.txt`), { id: ID, filename: "a b.txt" });
    for (const p of [
      "",
      ID,
      `${ID}/`,
      `${ID}/a/b`,
      `${ID}/%2e%2e`,
      `${ID}/..%2Fx`,
      `${ID}/a%5Cb`,
      `${ID}/%E0%A4%A`,
      `short/a.txt`,
      `${ID}x/a.txt`,
    ]) {
      assert.equal(parseUploadPath(p), null, p);
    }
  });

  it("verifies a signature only for the exact claims it was made for", () => {
    const secret = Buffer.alloc(32, 7);
    const claims = { id: ID, owner: "a@b", filename: "f.txt", size: 5, contentType: "text/plain", expires: 100 };
    const sig = signSlot(secret, claims);
    assert.ok(verifySlot(secret, claims, sig));
    assert.ok(!verifySlot(Buffer.alloc(32, 8), claims, sig));
    for (const change of [
      { size: 6 },
      { filename: "g.txt" },
      { owner: "c@b" },
      { contentType: "" },
      { expires: 101 },
    ]) {
      assert.ok(!verifySlot(secret, { ...claims, ...change }, sig), JSON.stringify(change));
    }
    assert.ok(!verifySlot(secret, claims, ""));
    assert.ok(!verifySlot(secret, claims, `${sig}A`));
  });
});
