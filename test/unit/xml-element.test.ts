import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDocument } from "../../src/xml/document.ts";
import { serialize, type XmlElement, type XmlNode, xml } from "../../src/xml/element.ts";
import { escapeAttr, escapeText } from "../../src/xml/escape.ts";
import { type XmlLimits, XmlStreamParser } from "../../src/xml/parser.ts";

const LIMITS: XmlLimits = { maxStanzaBytes: 1 << 20, maxDepth: 64 };

describe("xml() builder and XmlElement helpers", () => {
  const msg = xml(
    "message",
    { to: "juliet@example.com", type: "chat", id: undefined },
    xml("body", null, "Hello"),
    false,
    null,
    undefined,
    xml("active", { xmlns: "http://jabber.org/protocol/chatstates" }),
    xml("x", { xmlns: "jabber:x:data" }, xml("field", { var: "a" }), xml("field", { var: "b" })),
    " tail",
  );

  it("omits undefined attributes and falsy children", () => {
    assert.deepEqual(msg.attrs, { to: "juliet@example.com", type: "chat" });
    assert.equal(msg.children.length, 4);
    assert.equal(msg.toString().includes("id="), false);
  });

  it("finds children by name and namespace, inheriting the parent's", () => {
    const iq = xml("iq", { xmlns: "jabber:client" }, xml("query", { xmlns: "jabber:iq:roster" }), xml("error"));
    assert.equal(iq.getChild("query")?.name, "query");
    assert.equal(iq.getChild("query", "jabber:iq:roster")?.name, "query");
    assert.equal(iq.getChild("query", "jabber:client"), undefined);
    assert.equal(iq.getChild("error", "jabber:client")?.name, "error");
    assert.equal(iq.getChildByNs("jabber:iq:roster")?.name, "query");
    assert.equal(msg.getChildren("field").length, 0);
    assert.equal(msg.getChild("x")?.getChildren("field", "jabber:x:data").length, 2);
    assert.equal(msg.getChildByNs("http://jabber.org/protocol/chatstates")?.name, "active");
  });

  it("lists elements and text", () => {
    assert.deepEqual(
      msg.elements().map((e) => e.name),
      ["body", "active", "x"],
    );
    assert.equal(msg.firstElement()?.name, "body");
    assert.equal(msg.text(), " tail");
    assert.equal(msg.getChildText("body"), "Hello");
    assert.equal(msg.getChildText("nope"), undefined);
    assert.equal(xml("a").firstElement(), undefined);
  });

  it("sets and removes attributes", () => {
    const el = xml("a", { b: "1" });
    assert.equal(el.setAttr("c", "2").attr("c"), "2");
    el.setAttr("b", undefined);
    assert.deepEqual(el.attrs, { c: "2" });
    assert.equal(el.xmlns, undefined);
    assert.equal(el.setAttr("xmlns", "urn:x").xmlns, "urn:x");
  });

  it("appends and removes children", () => {
    const el = xml("a").append(xml("b"), "t", undefined, false, xml("b", { xmlns: "u" }), xml("c"));
    assert.equal(el.children.length, 4);
    assert.equal(el.removeChildren("b", "u"), 1);
    assert.equal(el.removeChildren("b"), 1);
    assert.deepEqual(
      el.children.map((c) => (typeof c === "string" ? c : c.name)),
      ["t", "c"],
    );
  });

  it("clones deeply", () => {
    const copy = msg.clone();
    assert.deepEqual(copy, msg);
    copy.setAttr("to", "other");
    copy.getChild("body")!.children.push("!");
    assert.equal(msg.attr("to"), "juliet@example.com");
    assert.equal(msg.getChildText("body"), "Hello");
  });
});

describe("serializer", () => {
  it("escapes text and attribute values", () => {
    const el = xml("a", { q: `x"y'z<&>` }, `1 < 2 & 3 > 2 "quoted" 'single'`);
    assert.equal(serialize(el), `<a q="x&quot;y&apos;z&lt;&amp;&gt;">1 &lt; 2 &amp; 3 &gt; 2 "quoted" 'single'</a>`);
    assert.equal(el.toString(), serialize(el));
    assert.equal(escapeText("plain"), "plain");
    assert.equal(escapeAttr("plain"), "plain");
  });

  it("escapes characters that a reader would normalize", () => {
    assert.equal(escapeAttr("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    assert.equal(escapeText("a\r\nb"), "a&#13;\nb");
  });

  it("writes empty elements as self-closing", () => {
    assert.equal(serialize(xml("presence", { type: "unavailable" })), `<presence type="unavailable"/>`);
  });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "a",
  "Z",
  " ",
  "\n",
  "\t",
  "\r\n",
  "\r",
  "&",
  "<",
  ">",
  '"',
  "'",
  "]]>",
  "é",
  "€",
  "😀",
  "中",
  ";",
  "&amp;",
];
const NAMES = ["a", "body", "x-y", "n.1", "_u", "élan", "中"];

function randomText(r: () => number): string {
  let s = "";
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function randomElement(r: () => number, depth: number): XmlElement {
  const el = xml(NAMES[Math.floor(r() * NAMES.length)]!);
  const nattrs = Math.floor(r() * 4);
  for (let i = 0; i < nattrs; i++) el.attrs[`${NAMES[Math.floor(r() * NAMES.length)]}${i}`] = randomText(r);
  if (r() < 0.3) el.attrs.xmlns = "urn:test";
  const nchildren = depth > 4 ? 0 : Math.floor(r() * 4);
  let lastText = false;
  for (let i = 0; i < nchildren; i++) {
    // The parser merges adjacent text, so the reference tree never has two text children in a row.
    if (!lastText && r() < 0.5) {
      el.children.push(randomText(r));
      lastText = true;
    } else {
      el.children.push(randomElement(r, depth + 1));
      lastText = false;
    }
  }
  return el;
}

function plain(node: XmlNode): unknown {
  return typeof node === "string"
    ? node
    : { name: node.name, attrs: { ...node.attrs }, children: node.children.map(plain) };
}

describe("serialize/parse round trip", () => {
  it("parse(serialize(x)) equals x for random elements", () => {
    const r = rng(2024);
    for (let i = 0; i < 300; i++) {
      const el = randomElement(r, 1);
      const text = serialize(el);
      assert.deepEqual(plain(parseDocument(text, LIMITS)), plain(el), text);
    }
  });

  it("round-trips stanzas through the stream parser in random chunks", () => {
    const r = rng(7);
    const sent = Array.from({ length: 50 }, () => randomElement(r, 1));
    const received: XmlElement[] = [];
    const parser = new XmlStreamParser(
      {
        onStreamStart() {},
        onStanza: (el) => received.push(el),
        onStreamEnd() {},
        onError: (err) => assert.fail(err),
      },
      LIMITS,
    );
    const data = Buffer.from(`<stream:stream xmlns:stream='s'>${sent.map(serialize).join(" ")}`);
    for (let i = 0; i < data.length; ) {
      const n = 1 + Math.floor(r() * 40);
      parser.write(data.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(received.map(plain), sent.map(plain));
  });
});
