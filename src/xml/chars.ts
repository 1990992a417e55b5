/**
 * Byte classification tables and XML 1.0 character rules used by the parser's inner loops. Markup is all ASCII,
 * so the parser works on UTF-8 bytes and only decodes runs of text; bytes >= 0x80 are classed as "high" and the
 * characters they form are checked separately (the UTF-8 itself is validated up front, see utf8.ts).
 */

// Classes for bytes of character data (element content and CDATA).
export const T_PLAIN = 0;
export const T_LT = 1;
export const T_AMP = 2;
/** A control character that XML 1.0 §2.2 `Char` excludes. */
export const T_BAD = 3;
/** `>`, which must not end a literal `]]>` in content (XML 1.0 §2.4). */
export const T_GT = 4;
/** CR, subject to end-of-line normalization (XML 1.0 §2.11). */
export const T_CR = 5;
/** 0xEF, the lead byte of U+FFFE and U+FFFF, which are not XML characters. */
export const T_EF = 6;
/** Any other byte >= 0x80: the run is not ASCII. */
export const T_HIGH = 7;
// Extra classes for attribute values.
/** `"` or `'`: ends the value when it matches the opening quote. */
export const T_QUOTE = 8;
/** TAB or LF, normalized to a space in attribute values (XML 1.0 §3.3.3). */
export const T_WS = 9;

function textTable(attr: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 0x20; b++) t[b] = T_BAD;
  t[0x09] = attr ? T_WS : T_PLAIN;
  t[0x0a] = attr ? T_WS : T_PLAIN;
  t[0x0d] = T_CR;
  t[0x3c] = T_LT;
  t[0x26] = T_AMP;
  if (attr) {
    t[0x22] = T_QUOTE;
    t[0x27] = T_QUOTE;
  } else {
    t[0x3e] = T_GT;
  }
  for (let b = 0x80; b < 0x100; b++) t[b] = T_HIGH;
  t[0xef] = T_EF;
  return t;
}

/** Byte classes in element content. */
export const TEXT_CLASS = textTable(false);
/** Byte classes inside a quoted attribute value. */
export const ATTR_CLASS = textTable(true);

// Bit flags for bytes of names (XML 1.0 §2.3 Name, Namespaces in XML 1.0 QName).
/** May appear in a name. */
export const N_CHAR = 1;
/** May start a name. */
export const N_START = 2;
/** The colon: separates prefix and local part. */
export const N_COLON = 4;
/** Byte >= 0x80: the name must be decoded and checked against the Unicode ranges. */
export const N_HIGH = 8;

/** Name byte flags; 0 means "ends the name". */
export const NAME_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  const set = (from: number, to: number, v: number) => {
    for (let b = from; b <= to; b++) t[b] = v;
  };
  set(0x41, 0x5a, N_CHAR | N_START); // A-Z
  set(0x61, 0x7a, N_CHAR | N_START); // a-z
  t[0x5f] = N_CHAR | N_START; // _
  t[0x3a] = N_CHAR | N_START | N_COLON; // :
  set(0x30, 0x39, N_CHAR); // 0-9
  t[0x2d] = N_CHAR; // -
  t[0x2e] = N_CHAR; // .
  set(0x80, 0xff, N_CHAR | N_START | N_HIGH);
  return t;
})();

/** XML whitespace (XML 1.0 §2.3 S): space, tab, CR, LF. */
export function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x09 || b === 0x0d;
}

/** XML 1.0 §2.2 Char, for a code point obtained from a character reference. */
export function isXmlChar(c: number): boolean {
  if (c < 0x20) return c === 0x09 || c === 0x0a || c === 0x0d;
  if (c <= 0xd7ff) return true;
  if (c < 0xe000) return false;
  if (c <= 0xfffd) return true;
  return c >= 0x10000 && c <= 0x10ffff;
}

/** XML 1.0 §2.3 NameStartChar, for a code point (the ASCII cases are handled by NAME_CLASS). */
function isNameStart(c: number): boolean {
  if (c < 0x80) return (NAME_CLASS[c]! & N_START) !== 0;
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    (c >= 0x200c && c <= 0x200d) ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0xeffff)
  );
}

/** XML 1.0 §2.3 NameChar. */
function isNameChar(c: number): boolean {
  if (c < 0x80) return NAME_CLASS[c]! !== 0;
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040);
}

/** Whether a decoded string is an XML Name; used only for names containing non-ASCII characters. */
export function isXmlName(s: string): boolean {
  let first = true;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (first ? !isNameStart(c) : !isNameChar(c)) return false;
    first = false;
  }
  return !first;
}

/**
 * Namespaces in XML 1.0 §4 QName: a name with a colon must be exactly `prefix:local`, both parts non-empty.
 * Returns the colon's index, or -1 for an unprefixed name, or -2 if the name is not a QName.
 */
export function qnameColon(name: string): number {
  const i = name.indexOf(":");
  if (i < 0) return -1;
  if (i === 0 || i === name.length - 1 || name.indexOf(":", i + 1) >= 0) return -2;
  // The local part must itself start like a name (e.g. `a:1b` is not a QName).
  const c = name.codePointAt(i + 1)!;
  return isNameStart(c) ? i : -2;
}
