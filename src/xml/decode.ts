/**
 * Turning byte ranges of the input into strings, as cheaply as V8 allows: ASCII runs are copied as latin1 (no
 * UTF-8 decoding needed), and names, which repeat on every stanza, come from a small intern cache so the attribute
 * maps of thousands of stanzas share the same key strings.
 */

interface SliceBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

// Buffer#latin1Slice/utf8Slice are what Buffer#toString dispatches to; calling them directly skips argument
// normalization (~25% faster on short strings). They are not documented, so fall back to toString if absent.
const proto = Buffer.prototype as Partial<SliceBuffer>;
const hasSlices = typeof proto.latin1Slice === "function" && typeof proto.utf8Slice === "function";

/** Decodes `buf[start, end)`, which must be ASCII. */
export const latin1: (buf: Buffer, start: number, end: number) => string = hasSlices
  ? (buf, start, end) => (buf as SliceBuffer).latin1Slice(start, end)
  : (buf, start, end) => buf.toString("latin1", start, end);

/** Decodes `buf[start, end)`, which must be valid UTF-8 made of complete characters. */
export const utf8: (buf: Buffer, start: number, end: number) => string = hasSlices
  ? (buf, start, end) => (buf as SliceBuffer).utf8Slice(start, end)
  : (buf, start, end) => buf.toString("utf8", start, end);

const CACHE_BITS = 12;
const CACHE_MASK = (1 << CACHE_BITS) - 1;
/** Longest name worth caching; longer ones are decoded each time so the cache stays small. */
const CACHE_MAX_LEN = 48;
const cache: (string | undefined)[] = new Array(1 << CACHE_BITS).fill(undefined);

/** Step of the rolling hash the parser computes while scanning a name: `h = nameHash(h, byte)`. */
export function nameHash(h: number, b: number): number {
  return (Math.imul(h, 31) + b) | 0;
}

/**
 * Returns the ASCII name in `buf[start, end)` whose rolling hash is `hash`, reusing the cached string when the
 * same name was seen before. Shared by all parsers: names are the same on every connection.
 */
export function internName(buf: Buffer, start: number, end: number, hash: number): string {
  const len = end - start;
  if (len > CACHE_MAX_LEN) return latin1(buf, start, end);
  const slot = hash & CACHE_MASK;
  const hit = cache[slot];
  if (hit !== undefined && hit.length === len) {
    let i = 0;
    while (i < len && hit.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return hit;
  }
  const s = latin1(buf, start, end);
  cache[slot] = s;
  return s;
}
