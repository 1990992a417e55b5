/**
 * PRECIS profiles used by XMPP (RFC 8265): UsernameCaseMapped for localparts (RFC 7622 §3.3) and OpaqueString for
 * resourceparts (RFC 7622 §3.4) and passwords (RFC 8265 §4). Deviations from the RFCs are listed in
 * precis-class.ts and next to `checkBidi`.
 */
import { findDisallowed, type StringClass } from "./precis-class.ts";

/** The string cannot be enforced by the profile; the message names the reason (e.g. the disallowed code point). */
export class PrecisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrecisError";
  }
}

// Strings for which every profile step is trivially known: the hot path of JID parsing.
const ASCII_IDENTIFIER = /^[\x21-\x7e]+$/;
const ASCII_FREEFORM = /^[\x20-\x7e]+$/;

/** Code points with a <wide> or <narrow> decomposition (the Halfwidth and Fullwidth Forms block, and U+3000). */
const WIDE_OR_NARROW = /[\u3000\uff01-\uffee]/gu;
const NON_ASCII_SPACE = /(?!\u0020)\p{Zs}/gu;

function formatCodePoint(cp: number): string {
  return "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Applies `map` until the result is stable: RFC 8264 §7 asks to reject strings that do not stabilize after
 * three more applications (a profile is not always idempotent at Unicode version boundaries).
 */
function applyUntilStable(input: string, map: (s: string) => string): string {
  let s = map(input);
  for (let round = 0; round < 3; round++) {
    const next = map(s);
    if (next === s) return s;
    s = next;
  }
  throw new PrecisError("string does not stabilize under the profile's rules");
}

function validate(s: string, stringClass: StringClass): void {
  if (s === "") throw new PrecisError("empty string");
  const bad = findDisallowed(s, stringClass);
  if (bad !== undefined) throw new PrecisError(`disallowed character ${formatCodePoint(bad)}`);
}

// Bidi_Class approximations for the Bidi Rule (RFC 5893 §2); JavaScript has no Bidi_Class property.
// R/AL: letters of the right-to-left scripts in current use.
const RTL =
  /(?=\p{L})[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}]/u;
const ARABIC_NUMBER = /[\u0660-\u0669\u066b\u066c]/u; // AN
const EUROPEAN_NUMBER = /[0-9\u06f0-\u06f9]/u; // EN
const NSM = /[\p{Mn}\p{Me}]/u;
const LTR = /[\p{L}\p{Mc}\p{Nd}]/u; // L, once RTL letters and EN/AN digits are excluded

type BidiClass = "RTL" | "AN" | "EN" | "NSM" | "L" | "OTHER";

function bidiClass(ch: string): BidiClass {
  if (RTL.test(ch)) return "RTL";
  if (ARABIC_NUMBER.test(ch)) return "AN";
  if (EUROPEAN_NUMBER.test(ch)) return "EN";
  if (NSM.test(ch)) return "NSM";
  if (LTR.test(ch)) return "L";
  return "OTHER";
}

/**
 * The Directionality Rule of UsernameCaseMapped (RFC 8265 §3.4.4): strings with right-to-left characters must
 * satisfy the Bidi Rule of RFC 5893 §2 (which then forbids left-to-right characters, so rules 5 and 6 never apply).
 * Bidi classes are approximated by script and general category (see above).
 */
function checkBidi(s: string): void {
  const classes = Array.from(s, bidiClass);
  if (!classes.includes("RTL")) return;
  if (classes[0] !== "RTL") throw new PrecisError("right-to-left string must start with a right-to-left character"); // rule 1
  if (classes.includes("L")) throw new PrecisError("right-to-left string contains a left-to-right character"); // rule 2
  let last = classes.length - 1;
  while (classes[last] === "NSM") last--;
  const end = classes[last];
  if (end !== "RTL" && end !== "EN" && end !== "AN") {
    throw new PrecisError("right-to-left string must end with a right-to-left character or digit"); // rule 3
  }
  if (classes.includes("EN") && classes.includes("AN")) {
    throw new PrecisError("right-to-left string mixes European and Arabic-Indic digits"); // rule 4
  }
}

function mapUsername(s: string): string {
  // RFC 8265 §3.4.1 width mapping; §3.4.2 no additional mapping; §3.4.3 case mapping; §3.4.4 NFC.
  return s
    .replace(WIDE_OR_NARROW, (c) => c.normalize("NFKC"))
    .toLowerCase()
    .normalize("NFC");
}

/**
 * Enforces the UsernameCaseMapped profile (RFC 8265 §3.4): width mapping, lowercasing, NFC, Bidi Rule, then the
 * IdentifierClass. Throws PrecisError.
 */
export function usernameCaseMapped(input: string): string {
  if (ASCII_IDENTIFIER.test(input)) return input.toLowerCase();
  const s = applyUntilStable(input, mapUsername);
  validate(s, "IdentifierClass");
  checkBidi(s);
  return s;
}

function mapOpaque(s: string): string {
  // RFC 8265 §4.2.1: non-ASCII spaces become U+0020; no width or case mapping; NFC.
  return s.replace(NON_ASCII_SPACE, " ").normalize("NFC");
}

/**
 * Enforces the OpaqueString profile (RFC 8265 §4.2): non-ASCII spaces to U+0020, NFC, then the FreeformClass.
 * Case and width are preserved. Throws PrecisError.
 */
export function opaqueString(input: string): string {
  if (ASCII_FREEFORM.test(input)) return input;
  const s = applyUntilStable(input, mapOpaque);
  validate(s, "FreeformClass");
  return s;
}
