/**
 * PRECIS string classes (RFC 8264 §4): the derived property algorithm (§8) and the contextual rules it refers to
 * (RFC 5892 Appendix A), built on the Unicode property escapes of the JavaScript regex engine instead of generated
 * tables. Deviations from the RFC, all because JavaScript exposes neither Joining_Type nor Bidi_Class:
 * - ZERO WIDTH NON-JOINER (RFC 5892 A.1): the Joining_Type test is approximated by "a letter of a cursive-joining
 *   script on both sides, transparent marks skipped"; the Virama test is exact (see `isVirama`).
 * - The Unicode version is the one of the running Node.js (RFC 8264 §11 allows newer versions).
 */

/** Result of the derived property algorithm. `ID_DIS` stands for "ID_DIS or FREE_PVAL". */
type Property = "PVALID" | "CONTEXTJ" | "CONTEXTO" | "DISALLOWED" | "UNASSIGNED" | "ID_DIS";

/** RFC 5892 §2.6 Exceptions, referenced by RFC 8264 §9.6. */
const EXCEPTIONS = new Map<number, Property>([
  [0x00df, "PVALID"],
  [0x03c2, "PVALID"],
  [0x06fd, "PVALID"],
  [0x06fe, "PVALID"],
  [0x0f0b, "PVALID"],
  [0x3007, "PVALID"],
  [0x00b7, "CONTEXTO"],
  [0x0375, "CONTEXTO"],
  [0x05f3, "CONTEXTO"],
  [0x05f4, "CONTEXTO"],
  [0x30fb, "CONTEXTO"],
  [0x0640, "DISALLOWED"],
  [0x07fa, "DISALLOWED"],
  [0x302e, "DISALLOWED"],
  [0x302f, "DISALLOWED"],
  [0x303b, "DISALLOWED"],
]);
for (let cp = 0x0660; cp <= 0x0669; cp++) EXCEPTIONS.set(cp, "CONTEXTO");
for (let cp = 0x06f0; cp <= 0x06f9; cp++) EXCEPTIONS.set(cp, "CONTEXTO");
for (let cp = 0x3031; cp <= 0x3035; cp++) EXCEPTIONS.set(cp, "DISALLOWED");

// RFC 8264 §9.x categories. Each regex is tested against a single code point.
const UNASSIGNED = /^(?!\p{Noncharacter_Code_Point})\p{Cn}$/u; // §9.5
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u; // §9.13
const CONTROLS = /\p{Cc}/u; // §9.12
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u; // §9.1
// OtherLetterDigits §9.9, Spaces §9.14, Symbols §9.15, Punctuation §9.16: ID_DIS or FREE_PVAL.
const ID_DIS_FREE_PVAL = /[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]/u;

/** Old Hangul Jamo (RFC 8264 §9.11): Hangul_Syllable_Type L, V or T. */
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

function computeProperty(cp: number): Property {
  // RFC 8264 §8, in the order given there. BackwardCompatible (§9.7) is empty.
  const exception = EXCEPTIONS.get(cp);
  if (exception) return exception;
  const ch = String.fromCodePoint(cp);
  if (UNASSIGNED.test(ch)) return "UNASSIGNED";
  if (cp >= 0x21 && cp <= 0x7e) return "PVALID"; // ASCII7 §9.11
  if (cp === 0x200c || cp === 0x200d) return "CONTEXTJ"; // JoinControl §9.8
  if (isOldHangulJamo(cp)) return "DISALLOWED";
  if (IGNORABLE.test(ch)) return "DISALLOWED";
  if (CONTROLS.test(ch)) return "DISALLOWED";
  if (ch.normalize("NFKC") !== ch) return "ID_DIS"; // HasCompat §9.17
  if (LETTER_DIGITS.test(ch)) return "PVALID";
  if (ID_DIS_FREE_PVAL.test(ch)) return "ID_DIS";
  return "DISALLOWED";
}

// The property is a pure function of the code point; remember the non-ASCII ones we have seen.
const propertyCache = new Map<number, Property>();

function property(cp: number): Property {
  let p = propertyCache.get(cp);
  if (p === undefined) {
    p = computeProperty(cp);
    if (propertyCache.size >= 8192) propertyCache.clear();
    propertyCache.set(cp, p);
  }
  return p;
}

/**
 * True if the code point's Canonical_Combining_Class is 9 (Virama). JavaScript has no property for it, but
 * canonical reordering reveals it: a mark of class 9 moves before a class-10 mark (U+05B0) and after a class-8
 * mark (U+3099) in NFD, and only a class strictly between 8 and 10 does both.
 */
function isVirama(cp: number): boolean {
  const x = String.fromCodePoint(cp);
  return (
    ("a\u05b0" + x).normalize("NFD") === "a" + x + "\u05b0" && ("a" + x + "\u3099").normalize("NFD") === "a\u3099" + x
  );
}

const SCRIPT_GREEK = /\p{Script=Greek}/u;
const SCRIPT_HEBREW = /\p{Script=Hebrew}/u;
const SCRIPT_KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
/** Letters of scripts whose letters join cursively (Joining_Type D, L or R): the approximation described above. */
const JOINING_LETTER =
  /(?=\p{L})[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Sogdian}]/u;
/** Joining_Type T (transparent), approximated by the mark and format categories. */
const TRANSPARENT = /[\p{Mn}\p{Me}\p{Cf}]/u;

function char(cps: readonly number[], i: number): string {
  const cp = cps[i];
  return cp === undefined ? "" : String.fromCodePoint(cp);
}

/** RFC 5892 A.1: ZWNJ between cursive letters (transparent marks skipped). */
function zwnjJoins(cps: readonly number[], i: number): boolean {
  let before = i - 1;
  while (before >= 0 && cps[before] !== 0x200c && TRANSPARENT.test(char(cps, before))) before--;
  let after = i + 1;
  while (after < cps.length && cps[after] !== 0x200c && TRANSPARENT.test(char(cps, after))) after++;
  return JOINING_LETTER.test(char(cps, before)) && JOINING_LETTER.test(char(cps, after));
}

/** CONTEXTJ rules, RFC 5892 A.1 (ZWNJ) and A.2 (ZWJ). */
function contextJ(cps: readonly number[], i: number): boolean {
  const before = cps[i - 1];
  if (before !== undefined && isVirama(before)) return true;
  return cps[i] === 0x200c && zwnjJoins(cps, i);
}

/** CONTEXTO rules, RFC 5892 A.3–A.9. */
function contextO(cps: readonly number[], i: number): boolean {
  const cp = cps[i]!;
  switch (cp) {
    case 0x00b7: // A.3 MIDDLE DOT: only in "l·l" (Catalan)
      return cps[i - 1] === 0x6c && cps[i + 1] === 0x6c;
    case 0x0375: // A.4 GREEK LOWER NUMERAL SIGN (KERAIA)
      return SCRIPT_GREEK.test(char(cps, i + 1));
    case 0x05f3: // A.5 HEBREW PUNCTUATION GERESH
    case 0x05f4: // A.6 HEBREW PUNCTUATION GERSHAYIM
      return SCRIPT_HEBREW.test(char(cps, i - 1));
    case 0x30fb: // A.7 KATAKANA MIDDLE DOT
      return cps.some((c) => SCRIPT_KANA_HAN.test(String.fromCodePoint(c)));
  }
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= 0x06f0 && c <= 0x06f9); // A.8
  if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= 0x0660 && c <= 0x0669); // A.9
  return false;
}

/** The two PRECIS string classes (RFC 8264 §4.2 and §4.3). */
export type StringClass = "IdentifierClass" | "FreeformClass";

/**
 * Returns the first code point of `s` that the string class does not allow (taking the contextual rules into
 * account), or undefined if every code point is allowed.
 */
export function findDisallowed(s: string, stringClass: StringClass): number | undefined {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    switch (property(cp)) {
      case "PVALID":
        continue;
      case "ID_DIS":
        if (stringClass === "FreeformClass") continue;
        return cp;
      case "CONTEXTJ":
        if (contextJ(cps, i)) continue;
        return cp;
      case "CONTEXTO":
        if (contextO(cps, i)) continue;
        return cp;
      default:
        return cp;
    }
  }
  return undefined;
}
