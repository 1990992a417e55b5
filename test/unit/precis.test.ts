import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { opaqueString, PrecisError, usernameCaseMapped } from "../../src/jid/precis.ts";
import { findDisallowed } from "../../src/jid/precis-class.ts";

describe("UsernameCaseMapped (RFC 8265 §3.4)", () => {
  it("lowercases ASCII and keeps ASCII punctuation", () => {
    assert.equal(usernameCaseMapped("Juliet"), "juliet");
    assert.equal(usernameCaseMapped("o'Brien-X_1!"), "o'brien-x_1!");
  });

  it("maps fullwidth and halfwidth forms (width mapping rule)", () => {
    assert.equal(usernameCaseMapped("ＪＵＬＩＥＴ"), "juliet");
    assert.equal(usernameCaseMapped("ｶ"), "カ"); // halfwidth katakana
  });

  it("case folds non-ASCII letters and normalizes to NFC", () => {
    assert.equal(usernameCaseMapped("ΣΑΣ"), "σας"); // Unicode toLowerCase() knows final sigma
    assert.equal(usernameCaseMapped("MU\u0308LLER"), "m\u00fcller");
    assert.equal(usernameCaseMapped("\u00c5"), "\u00e5");
  });

  it("keeps the PVALID exceptions ß and final sigma", () => {
    assert.equal(usernameCaseMapped("straße"), "straße");
    assert.equal(usernameCaseMapped("ς"), "ς");
  });

  it("rejects spaces, controls, symbols and compatibility characters", () => {
    for (const bad of ["a b", "a\u00a0b", "a\u0007", "\u2603", "a\u00a9", "\ufb01", "\u2163", "a\ufdd0"]) {
      assert.throws(() => usernameCaseMapped(bad), PrecisError, JSON.stringify(bad));
    }
  });

  it("rejects unassigned code points and old hangul jamo", () => {
    assert.throws(() => usernameCaseMapped("a\u0378"), /disallowed character U\+0378/);
    assert.throws(() => usernameCaseMapped("\ua960"), /disallowed character U\+A960/);
    assert.equal(usernameCaseMapped("\u1100\u1161"), "\uac00"); // conjoining jamo compose under NFC
  });

  it("rejects the empty string", () => {
    assert.throws(() => usernameCaseMapped(""), /empty/);
  });

  it("applies the contextual rules of RFC 5892 Appendix A", () => {
    assert.equal(usernameCaseMapped("col·lecció"), "col·lecció"); // A.3 middle dot between two l
    assert.throws(() => usernameCaseMapped("a·b"), /U\+00B7/);
    assert.equal(usernameCaseMapped("\u0915\u094d\u200d\u0937"), "\u0915\u094d\u200d\u0937"); // A.2 ZWJ after virama
    assert.throws(() => usernameCaseMapped("a\u200db"), /U\+200D/);
    assert.equal(usernameCaseMapped("\u0628\u200c\u0628"), "\u0628\u200c\u0628"); // A.1 ZWNJ between joining letters
    assert.throws(() => usernameCaseMapped("a\u200cb"), /U\+200C/);
    assert.equal(usernameCaseMapped("\u05d0\u05f3\u05d1"), "\u05d0\u05f3\u05d1"); // A.5 geresh after Hebrew
    assert.throws(() => usernameCaseMapped("\u05f3"), /U\+05F3/);
    assert.equal(usernameCaseMapped("\u30ab\u30fb\u30ab"), "\u30ab\u30fb\u30ab"); // A.7
    assert.throws(() => usernameCaseMapped("a\u30fbb"), /U\+30FB/);
    assert.throws(() => usernameCaseMapped("\u0628\u0661\u06f1"), /U\+0661/); // A.8 mixed Arabic-Indic digits
  });

  it("applies the Bidi Rule to right-to-left strings", () => {
    assert.equal(usernameCaseMapped("שלום"), "שלום");
    assert.equal(usernameCaseMapped("\u0645\u0631\u062d\u0628\u0627"), "\u0645\u0631\u062d\u0628\u0627");
    assert.equal(usernameCaseMapped("שלום1"), "שלום1");
    assert.throws(() => usernameCaseMapped("1שלום"), /must start/);
    assert.throws(() => usernameCaseMapped("שלוםa"), /left-to-right/);
    assert.throws(() => usernameCaseMapped("שלום-"), /must end/);
  });
});

describe("OpaqueString (RFC 8265 §4.2)", () => {
  it("keeps case, width, ASCII spaces and symbols", () => {
    assert.equal(opaqueString("Hello World"), "Hello World");
    assert.equal(opaqueString(" x "), " x ");
    assert.equal(opaqueString("ＡＢ ♥"), "ＡＢ ♥");
    assert.equal(opaqueString("\ufb01"), "\ufb01");
  });

  it("maps non-ASCII spaces to U+0020 and normalizes to NFC", () => {
    assert.equal(opaqueString("a\u00a0b\u2003c\u3000d"), "a b c d");
    assert.equal(opaqueString("e\u0301"), "\u00e9");
  });

  it("rejects controls, ignorable and unassigned code points, and the empty string", () => {
    for (const bad of ["a\u0000", "a\tb", "a\u00adb", "a\u200bb", "\u0378", "a\u2028b", ""]) {
      assert.throws(() => opaqueString(bad), PrecisError, JSON.stringify(bad));
    }
  });
});

describe("findDisallowed", () => {
  it("differs between the string classes only for ID_DIS / FREE_PVAL code points", () => {
    assert.equal(findDisallowed("a\u2603", "IdentifierClass"), 0x2603);
    assert.equal(findDisallowed("a\u2603", "FreeformClass"), undefined);
    assert.equal(findDisallowed("a\u0001", "FreeformClass"), 0x0001);
    assert.equal(findDisallowed("abc", "IdentifierClass"), undefined);
  });
});
