import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDocument } from "../../src/xml/document.ts";
import { XmlParseError } from "../../src/xml/errors.ts";
import type { XmlLimits } from "../../src/xml/parser.ts";

const LIMITS: XmlLimits = { maxStanzaBytes: 10_000, maxDepth: 8 };

function conditionOf(input: string | Buffer, limits: XmlLimits = LIMITS): string {
  try {
    parseDocument(input, limits);
  } catch (e) {
    assert.ok(e instanceof XmlParseError, `not an XmlParseError: ${e}`);
    return e.condition;
  }
  assert.fail("expected an XmlParseError");
}

describe("parseDocument", () => {
  it("parses a BOSH body with a declaration and surrounding whitespace", () => {
    const el = parseDocument(
      "<?xml version='1.0' encoding='UTF-8'?>\n<body rid='1' xmlns='http://jabber.org/protocol/httpbind'>" +
        "<message to='a@b' xmlns='jabber:client'><body>héllo &amp; 😀</body></message></body>\r\n",
      LIMITS,
    );
    assert.equal(el.name, "body");
    assert.deepEqual(el.attrs, { rid: "1", xmlns: "http://jabber.org/protocol/httpbind" });
    const msg = el.getChild("message", "jabber:client");
    assert.ok(msg);
    assert.equal(msg.getChildText("body"), "héllo & 😀");
  });

  it("parses a WebSocket framing element (RFC 7395) from a Buffer", () => {
    const el = parseDocument(
      Buffer.from("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"),
      LIMITS,
    );
    assert.equal(el.name, "open");
    assert.equal(el.attr("to"), "example.com");
    assert.equal(el.children.length, 0);
  });

  it("keeps prefixed names verbatim", () => {
    const el = parseDocument(
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><a/></stream:features>",
      LIMITS,
    );
    assert.equal(el.name, "stream:features");
    assert.equal(el.attr("xmlns:stream"), "http://etherx.jabber.org/streams");
  });

  it("rejects input that is not exactly one element", () => {
    assert.equal(conditionOf(""), "not-well-formed");
    assert.equal(conditionOf("   "), "not-well-formed");
    assert.equal(conditionOf("hello"), "not-well-formed");
    assert.equal(conditionOf("<a/><b/>"), "not-well-formed");
    assert.equal(conditionOf("<a/>text"), "not-well-formed");
    assert.equal(conditionOf("text<a/>"), "not-well-formed");
    assert.equal(conditionOf("<a>"), "not-well-formed");
    assert.equal(conditionOf("<a><b></a>"), "not-well-formed");
    assert.equal(conditionOf("<a/></a>"), "not-well-formed");
    assert.equal(conditionOf("<?xml version='1.0'?>"), "not-well-formed");
    assert.equal(conditionOf("<a/><"), "not-well-formed");
  });

  it("rejects truncated or invalid UTF-8", () => {
    assert.equal(conditionOf(Buffer.from([0x3c, 0x61, 0x3e, 0xe2, 0x82, 0x3c, 0x2f, 0x61, 0x3e])), "not-well-formed");
    assert.equal(conditionOf(Buffer.concat([Buffer.from("<a/>"), Buffer.from([0xe2, 0x82])])), "not-well-formed");
    assert.equal(conditionOf("<a/>\uD83D"), "not-well-formed");
  });

  it("applies the XMPP restrictions", () => {
    assert.equal(conditionOf("<a/><!-- c -->"), "restricted-xml");
    assert.equal(conditionOf("<!-- c --><a/>"), "restricted-xml");
    assert.equal(conditionOf("<a><?pi?></a>"), "restricted-xml");
    assert.equal(conditionOf(" <?xml version='1.0'?><a/>"), "restricted-xml");
    assert.equal(conditionOf("<!DOCTYPE a><a/>"), "restricted-xml");
    assert.equal(conditionOf("<a>&custom;</a>"), "restricted-xml");
    assert.equal(conditionOf("<p:a/>"), "not-well-formed");
    assert.equal(conditionOf("<a b='1' b='2'/>"), "not-well-formed");
  });

  it("rejects a billion-laughs document at the DOCTYPE", () => {
    let doc = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">';
    for (let i = 1; i <= 9; i++) doc += `<!ENTITY lol${i} "${`&lol${i === 1 ? "" : i - 1};`.repeat(10)}">`;
    doc += "]><lolz>&lol9;</lolz>";
    assert.equal(conditionOf(doc), "restricted-xml");
  });

  it("caps the whole document at maxStanzaBytes, counting bytes", () => {
    const doc = `<a>${"é".repeat(10)}</a>`; // 27 bytes
    assert.equal(parseDocument(doc, { maxStanzaBytes: 27, maxDepth: 1 }).text(), "é".repeat(10));
    assert.equal(conditionOf(doc, { maxStanzaBytes: 26, maxDepth: 1 }), "policy-violation");
    assert.equal(conditionOf(`${doc}  `, { maxStanzaBytes: 28, maxDepth: 1 }), "policy-violation");
  });

  it("counts the root as depth 1", () => {
    assert.equal(parseDocument("<a/>", { maxStanzaBytes: 100, maxDepth: 1 }).name, "a");
    assert.equal(conditionOf("<a><b/></a>", { maxStanzaBytes: 100, maxDepth: 1 }), "policy-violation");
    assert.equal(parseDocument("<a><b><c/></b></a>", { maxStanzaBytes: 100, maxDepth: 3 }).name, "a");
    assert.equal(conditionOf("<a><b><c><d/></c></b></a>", { maxStanzaBytes: 100, maxDepth: 3 }), "policy-violation");
  });
});
