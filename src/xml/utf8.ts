/**
 * UTF-8 helpers for a byte stream that arrives in arbitrary chunks. The parser validates each newly received
 * range with the native `isUtf8` up to the last complete character and keeps an incomplete trailing sequence
 * for the next chunk (RFC 6120 §11.6: XMPP streams are UTF-8).
 */

/**
 * The end of the longest prefix of `buf[from, to)` that does not stop inside a multi-byte sequence.
 * `from` must be a character boundary. Malformed sequences are not judged here; `isUtf8` does that.
 */
export function completeEnd(buf: Uint8Array, from: number, to: number): number {
  let i = to - 1;
  const min = Math.max(from, to - 4);
  while (i >= min && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < min) return to;
  const lead = buf[i]!;
  // A byte that can never start a sequence is judged now rather than waited on.
  if (lead >= 0xf5 || lead === 0xc0 || lead === 0xc1) return to;
  const need = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  return to - i >= need ? to : i;
}

/**
 * Index of the first byte of the first invalid sequence in `buf[from, to)` (a range known to contain one), per
 * RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF. Slow path, used only to report the position.
 */
export function firstInvalidUtf8(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n >= to) return i; // truncated sequence
    const b1 = buf[i + 1]!;
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return to;
}
