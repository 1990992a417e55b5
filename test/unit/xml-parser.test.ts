import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XmlElement, type XmlNode } from "../../src/xml/element.ts";
import type { XmlParseError } from "../../src/xml/errors.ts";
import { MAX_ATTRIBUTES, type StreamHandler, type XmlLimits, XmlStreamParser } from "../../src/xml/parser.ts";

const LIMITS: XmlLimits = { maxStanzaBytes: 10_000, maxDepth: 16 };
const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "to='example.com' version='1.0' xml:lang='en'>";

/** Structural dump that shows exactly how text is split into children. */
type Dump = { n: string; a: Record<string, string>; c: (Dump | string)[] };
function dump(el: XmlElement): Dump {
  return { n: el.name, a: { ...el.attrs }, c: el.children.map((c: XmlNode) => (typeof c === "string" ? c : dump(c))) };
}

type Event = ["start", string, Record<string, string>] | ["stanza", Dump] | ["end"] | ["error", string];

/** A parser whose handler records events; `extra` lets a test hook into the callbacks. */
function recorder(limits: XmlLimits = LIMITS, extra: Partial<StreamHandler> = {}) {
  const events: Event[] = [];
  const errors: XmlParseError[] = [];
  const parser: XmlStreamParser = new XmlStreamParser(
    {
      onStreamStart(name, attrs) {
        events.push(["start", name, { ...attrs }]);
        extra.onStreamStart?.(name, attrs);
      },
      onStanza(el) {
        events.push(["stanza", dump(el)]);
        extra.onStanza?.(el);
      },
      onStreamEnd() {
        events.push(["end"]);
        extra.onStreamEnd?.();
      },
      onError(err) {
        events.push(["error", err.condition]);
        errors.push(err);
        extra.onError?.(err);
      },
    },
    limits,
  );
  return { parser, events, errors };
}

function parse(chunks: (string | Buffer)[], limits: XmlLimits = LIMITS): Event[] {
  const r = recorder(limits);
  for (const c of chunks) r.parser.write(c);
  return r.events;
}

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

function bytes(input: string | Buffer): Buffer {
  return typeof input === "string" ? Buffer.from(input, "utf8") : input;
}

/**
 * Asserts that every way of cutting `input` into writes gives the same events as one write: one byte at a time,
 * every two-piece split, random chunk sizes. Returns the events.
 */
function assertChunkingInvariant(input: string | Buffer, limits: XmlLimits = LIMITS): Event[] {
  const data = bytes(input);
  const whole = parse([data], limits);
  const single: Buffer[] = [];
  for (let i = 0; i < data.length; i++) single.push(data.subarray(i, i + 1));
  assert.deepEqual(parse(single, limits), whole, "one byte at a time");
  for (let i = 1; i < data.length; i++) {
    assert.deepEqual(parse([data.subarray(0, i), data.subarray(i)], limits), whole, `split at byte ${i}`);
  }
  const r = rng(data.length);
  for (let round = 0; round < 20; round++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const n = 1 + Math.floor(r() * 17);
      chunks.push(data.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(parse(chunks, limits), whole, `random chunks, round ${round}`);
  }
  return whole;
}

/** The error condition raised by a stream made of HEADER + body (or of `raw` exactly when `raw` is set). */
function errorOf(body: string, raw = false, limits: XmlLimits = LIMITS): string | undefined {
  const events = parse([raw ? body : HEADER + body], limits);
  const last = events.at(-1);
  return last?.[0] === "error" ? last[1] : undefined;
}

const STREAM_ATTRS = {
  xmlns: "jabber:client",
  "xmlns:stream": "http://etherx.jabber.org/streams",
  to: "example.com",
  version: "1.0",
  "xml:lang": "en",
};

describe("XmlStreamParser: a normal stream", () => {
  const stream =
    HEADER +
    "<message to='juliet@example.com' from=\"romeo@example.net/orchard\" type='chat' id='m1'>" +
    "<body>Wherefore art thou?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>" +
    " \n " +
    "<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>" +
    "<presence/>" +
    "</stream:stream>";

  it("emits the header, each stanza and the end, verbatim", () => {
    assert.deepEqual(parse([stream]), [
      ["start", "stream:stream", STREAM_ATTRS],
      [
        "stanza",
        {
          n: "message",
          a: { to: "juliet@example.com", from: "romeo@example.net/orchard", type: "chat", id: "m1" },
          c: [
            { n: "body", a: {}, c: ["Wherefore art thou?"] },
            { n: "active", a: { xmlns: "http://jabber.org/protocol/chatstates" }, c: [] },
          ],
        },
      ],
      ["stanza", { n: "iq", a: { type: "get", id: "p1" }, c: [{ n: "ping", a: { xmlns: "urn:xmpp:ping" }, c: [] }] }],
      ["stanza", { n: "presence", a: {}, c: [] }],
      ["end"],
    ]);
  });

  it("delivers XmlElement instances without adding xmlns", () => {
    const got: XmlElement[] = [];
    const r = recorder(LIMITS, { onStanza: (el) => got.push(el) });
    r.parser.write(stream);
    assert.ok(got[0] instanceof XmlElement);
    assert.equal(got[0]!.attrs.xmlns, undefined);
    assert.equal(got[0]!.getChildText("body"), "Wherefore art thou?");
  });

  it("gives identical results however the input is split", () => {
    assertChunkingInvariant(stream);
  });

  it("accepts string and Buffer writes mixed", () => {
    const data = Buffer.from(stream);
    assert.deepEqual(parse([stream.slice(0, 100), data.subarray(100)]), parse([stream]));
  });

  it("accepts a stream without XML declaration, and a UTF-8 BOM before it", () => {
    const body = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a/>";
    assert.deepEqual(parse([body]).length, 2);
    assert.deepEqual(parse([`\uFEFF<?xml version="1.0" encoding="utf-8"?>${body}`]).length, 2);
    assert.deepEqual(parse([`\uFEFF${body}`]).length, 2);
  });

  it("accepts a self-closing stream root as start and end", () => {
    assert.deepEqual(parse(["<stream:stream xmlns:stream='s'/>"]), [
      ["start", "stream:stream", { "xmlns:stream": "s" }],
      ["end"],
    ]);
  });

  it("ignores whitespace after the stream end but rejects anything else", () => {
    assert.deepEqual(parse([`${HEADER}</stream:stream>  \r\n`]).at(-1), ["end"]);
    assert.equal(errorOf("</stream:stream><presence/>"), "not-well-formed");
    assert.equal(errorOf("</stream:stream>x"), "not-well-formed");
    assert.equal(errorOf("</stream:stream></stream:stream>"), "not-well-formed");
  });
});

describe("XmlStreamParser: whitespace and text", () => {
  it("drops whitespace keepalives between stanzas, before the first and after the last", () => {
    const events = parse([HEADER, " ", "\n", "\t\r\n ", "<a/>", "   ", "<b/>", " "]);
    assert.deepEqual(
      events.map((e) => e[0]),
      ["start", "stanza", "stanza"],
    );
  });

  it("keeps whitespace-only text inside stanzas", () => {
    const events = parse([`${HEADER}<message> <body>\n</body>\t</message>`]);
    assert.deepEqual(events[1], ["stanza", { n: "message", a: {}, c: [" ", { n: "body", a: {}, c: ["\n"] }, "\t"] }]);
  });

  it("merges adjacent text, references and CDATA into one child", () => {
    const events = assertChunkingInvariant(`${HEADER}<body>a&amp;b<![CDATA[<c>]]>d&#x41;<![CDATA[]]>e</body>`);
    assert.deepEqual(events[1], ["stanza", { n: "body", a: {}, c: ["a&b<c>dAe"] }]);
  });

  it("rejects non-whitespace character data between stanzas with bad-format", () => {
    assert.equal(errorOf("hello"), "bad-format");
    assert.equal(errorOf("<a/> x <b/>"), "bad-format");
    assert.equal(errorOf("&amp;"), "bad-format");
    assert.equal(errorOf("<![CDATA[x]]>"), "bad-format");
  });

  it("normalizes line ends in text and CDATA (XML 1.0 §2.11), also across writes", () => {
    const events = assertChunkingInvariant(`${HEADER}<b>a\r\nb\rc\n<![CDATA[d\r\ne]]>&#13;</b>`);
    assert.deepEqual(events[1], ["stanza", { n: "b", a: {}, c: ["a\nb\nc\nd\ne\r"] }]);
    assert.deepEqual(parse([`${HEADER}<b>a\r`, "\nb</b>"])[1], ["stanza", { n: "b", a: {}, c: ["a\nb"] }]);
  });

  it("normalizes whitespace in attribute values (XML 1.0 §3.3.3) but not character references", () => {
    const events = assertChunkingInvariant(`${HEADER}<a v='x\ty\nz\r\nw' r='&#9;&#10;&#13;'/>`);
    assert.deepEqual(events[1], ["stanza", { n: "a", a: { v: "x y z w", r: "\t\n\r" }, c: [] }]);
  });
});

describe("XmlStreamParser: UTF-8", () => {
  const text = "é € 😀 中文 ñ";
  const stanza = `<message to='jüliet@例え.jp' é='ü'><bödy>${text}</bödy></message>`;

  it("decodes 2-, 3- and 4-byte characters split across writes at every position", () => {
    const events = assertChunkingInvariant(HEADER + stanza);
    assert.deepEqual(events[1], [
      "stanza",
      { n: "message", a: { to: "jüliet@例え.jp", é: "ü" }, c: [{ n: "bödy", a: {}, c: [text] }] },
    ]);
  });

  it("rejects invalid UTF-8 with not-well-formed, after delivering what came before", () => {
    const cases = [
      Buffer.from([0xc0, 0x80]), // overlong NUL
      Buffer.from([0xe0, 0x80, 0x80]), // overlong
      Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
      Buffer.from([0x80]), // lone continuation byte
      Buffer.from([0xc3, 0x41]), // truncated sequence
      Buffer.from([0xff]),
    ];
    for (const bad of cases) {
      const input = Buffer.concat([Buffer.from(`${HEADER}<a/><b>x`), bad, Buffer.from("y</b><c/>")]);
      const events = assertChunkingInvariant(input);
      assert.deepEqual(
        events.map((e) => e[0]),
        ["start", "stanza", "error"],
        bad.toString("hex"),
      );
      assert.deepEqual(events.at(-1), ["error", "not-well-formed"]);
    }
  });

  it("finds invalid UTF-8 inside a large write too", () => {
    const big = `<b>${"é".repeat(500)}</b>`;
    const input = Buffer.concat([Buffer.from(`${HEADER}${big}<b>`), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from(big)]);
    assert.deepEqual(
      parse([input]).map((e) => e[0]),
      ["start", "stanza", "error"],
    );
    assert.deepEqual(parse([input]), parse([input.subarray(0, 700), input.subarray(700)]));
  });

  it("rejects a lone surrogate in string input, but joins a pair split between string writes", () => {
    assert.equal(errorOf("<b>\uD800x</b>"), "not-well-formed");
    assert.equal(errorOf("<b>\uDC00</b>"), "not-well-formed");
    const events = parse([`${HEADER}<b>\uD83D`, "\uDE00</b>"]);
    assert.deepEqual(events[1], ["stanza", { n: "b", a: {}, c: ["😀"] }]);
  });
});

describe("XmlStreamParser: references and CDATA", () => {
  it("decodes the five predefined entities and character references in text and attributes", () => {
    const events = assertChunkingInvariant(
      `${HEADER}<a v="&lt;&gt;&amp;&quot;&apos;&#60;&#x3c;&#x1F600;">&lt;&gt;&amp;&quot;&apos;&#60;&#x3C;&#128512;&#0000065;</a>`,
    );
    assert.deepEqual(events[1], ["stanza", { n: "a", a: { v: "<>&\"'<<😀" }, c: ["<>&\"'<<😀A"] }]);
  });

  it("rejects references to characters that XML does not allow, and malformed references", () => {
    for (const ref of ["&#0;", "&#x0;", "&#8;", "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#xFFFF;", "&#x110000;"]) {
      assert.equal(errorOf(`<a>${ref}</a>`), "not-well-formed", ref);
      assert.equal(errorOf(`<a v='${ref}'/>`), "not-well-formed", ref);
    }
    for (const ref of [
      "&#;",
      "&#x;",
      "&#12a;",
      "&#X41;",
      "&#99999999999999999999;",
      "&;",
      "& ",
      "&1a;",
      "&a b;",
      "&amp",
    ]) {
      assert.equal(errorOf(`<a>${ref}</a>`), "not-well-formed", ref);
    }
  });

  it("rejects any other entity reference with restricted-xml", () => {
    assert.equal(errorOf("<a>&nbsp;</a>"), "restricted-xml");
    assert.equal(errorOf("<a v='&foo;'/>"), "restricted-xml");
    assert.equal(errorOf("<a>&lol9;</a>"), "restricted-xml");
    assert.equal(errorOf("<a>&ampx;</a>"), "restricted-xml");
    assert.equal(errorOf("<a>&été;</a>"), "restricted-xml");
  });

  it("reads CDATA sections verbatim, including brackets", () => {
    const events = assertChunkingInvariant(`${HEADER}<a><![CDATA[<b>&amp;]]]]><![CDATA[>]x]]></a>`);
    assert.deepEqual(events[1], ["stanza", { n: "a", a: {}, c: ["<b>&amp;]]>]x"] }]);
  });

  it("rejects ']]>' in character data and control characters in CDATA", () => {
    assert.equal(errorOf("<a>x]]>y</a>"), "not-well-formed");
    assert.equal(errorOf("<a><![CDATA[\u0001]]></a>"), "not-well-formed");
    assert.deepEqual(parse([`${HEADER}<a>]]&gt;]>]] ></a>`])[1], ["stanza", { n: "a", a: {}, c: ["]]>]>]] >"] }]);
  });
});

describe("XmlStreamParser: restricted XML (RFC 6120 §11.1)", () => {
  it("rejects comments anywhere", () => {
    assert.equal(errorOf("<!-- hi -->"), "restricted-xml");
    assert.equal(errorOf("<a><!-- hi --></a>"), "restricted-xml");
    assert.equal(errorOf("<!-- hi --><stream:stream xmlns:stream='s'>", true), "restricted-xml");
  });

  it("rejects processing instructions, and an XML declaration anywhere but the very start", () => {
    assert.equal(errorOf("<?foo bar?>"), "restricted-xml");
    assert.equal(errorOf("<a><?foo?></a>"), "restricted-xml");
    assert.equal(errorOf("<?xml version='1.0'?>"), "restricted-xml");
    assert.equal(errorOf(" <?xml version='1.0'?><stream:stream xmlns:stream='s'>", true), "restricted-xml");
    assert.equal(errorOf("<?xml-stylesheet href='x'?><stream:stream xmlns:stream='s'>", true), "restricted-xml");
    assert.equal(errorOf("<?xml version='1.0'?><?xml version='1.0'?>", true), "restricted-xml");
  });

  it("checks the XML declaration", () => {
    const root = "<stream:stream xmlns:stream='s'>";
    assert.equal(errorOf(`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>${root}`, true), undefined);
    assert.equal(errorOf(`<?xml version="1.1"?>${root}`, true), undefined);
    assert.equal(errorOf(`<?xml version='1.0' encoding='ISO-8859-1'?>${root}`, true), "bad-format");
    assert.equal(errorOf(`<?xml encoding='UTF-8'?>${root}`, true), "not-well-formed");
    assert.equal(errorOf(`<?xml version='2.0'?>${root}`, true), "not-well-formed");
    assert.equal(errorOf(`<?xml version='1.0'><a/>${root}`, true), "not-well-formed");
  });

  it("rejects a DTD, and so a billion-laughs document, at the DOCTYPE", () => {
    let laughs = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n';
    laughs += ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n';
    for (let i = 2; i <= 9; i++) laughs += ` <!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">\n`;
    laughs += "]>\n<stream:stream xmlns:stream='s'><lolz>&lol9;</lolz>";
    const r = recorder();
    r.parser.write(laughs);
    assert.deepEqual(r.events, [["error", "restricted-xml"]]);
    assert.match(r.errors[0]!.message, /DTD/);
    assert.equal(errorOf("<!ENTITY x 'y'>"), "restricted-xml");
    assert.equal(errorOf("<a><!DOCTYPE a></a>"), "restricted-xml");
  });
});

describe("XmlStreamParser: well-formedness", () => {
  const malformed: [string, string][] = [
    ["mismatched end tag", "<a><b></a></b>"],
    ["end tag of another element", "<a></b>"],
    ["unquoted attribute", "<a b=c/>"],
    ["attribute without value", "<a b/>"],
    ["attribute without name", "<a ='x'/>"],
    ["duplicate attribute", "<a b='1' b='2'/>"],
    ["'<' in attribute value", "<a b='<'/>"],
    ["attributes not separated", "<a b='1'c='2'/>"],
    ["space before name", "< a/>"],
    ["invalid name start", "<1a/>"],
    ["invalid name char", "<a\u00d7b/>"],
    ["bad markup", "<!x>"],
    ["malformed comment", "<a><!-x></a>"],
    ["bad CDATA opener", "<a><![CDATX[x]]></a>"],
    ["space in empty-element tag", "<a/ >"],
    ["control character in text", "<a>\u0001</a>"],
    ["control character in attribute", "<a b='\u001f'/>"],
    ["U+FFFE in text", "<a>\uFFFE</a>"],
    ["U+FFFF in attribute", "<a b='\uFFFF'/>"],
    ["end tag with attribute", "<a></a b='1'>"],
    ["empty end tag", "<a></>"],
    ["wrong stream close", "</stream:streamx>"],
    ["QName with two colons", "<a:b:c xmlns:a='u'/>"],
    ["QName with empty local part", "<a: xmlns:a='u'/>"],
    ["QName with empty prefix", "<:a/>"],
  ];
  for (const [what, body] of malformed) {
    it(`rejects ${what}`, () => {
      assert.equal(errorOf(body), "not-well-formed");
      assertChunkingInvariant(HEADER + body);
    });
  }

  it("rejects text and end tags outside the root", () => {
    assert.equal(errorOf("hello<stream:stream xmlns:stream='s'>", true), "not-well-formed");
    assert.equal(errorOf("</stream:stream>", true), "not-well-formed");
    assert.equal(errorOf("<?xml version='1.0'?></a>", true), "not-well-formed");
  });

  it("keeps names like __proto__ and constructor as ordinary attributes", () => {
    const events = parse([`${HEADER}<a __proto__='1' constructor='2' toString='3'/>`]);
    const attrs = JSON.parse('{"__proto__":"1","constructor":"2","toString":"3"}');
    assert.deepEqual(events[1], ["stanza", { n: "a", a: attrs, c: [] }]);
    assert.equal(errorOf("<a __proto__='1' __proto__='2'/>"), "not-well-formed");
  });

  it("accepts '>' in attribute values and both quote styles", () => {
    const events = assertChunkingInvariant(`${HEADER}<a b='x>"y' c="'>'" d = 'e' />`);
    assert.deepEqual(events[1], ["stanza", { n: "a", a: { b: 'x>"y', c: "'>'", d: "e" }, c: [] }]);
  });
});

describe("XmlStreamParser: namespaces", () => {
  it("accepts prefixes declared on the stream root, the element or an ancestor", () => {
    const body = "<stream:error><x xmlns:p='urn:p'><p:y p:z='1'><p:w/></p:y></x></stream:error><a xml:lang='fr'/>";
    const events = parse([HEADER + body]);
    assert.deepEqual(
      events.map((e) => e[0]),
      ["start", "stanza", "stanza"],
    );
    assert.deepEqual(events[1], [
      "stanza",
      {
        n: "stream:error",
        a: {},
        c: [
          { n: "x", a: { "xmlns:p": "urn:p" }, c: [{ n: "p:y", a: { "p:z": "1" }, c: [{ n: "p:w", a: {}, c: [] }] }] },
        ],
      },
    ]);
  });

  it("accepts a declaration after the attribute that uses it", () => {
    assert.equal(errorOf("<a p:x='1' xmlns:p='u'/>"), undefined);
  });

  it("rejects undeclared element and attribute prefixes", () => {
    assert.equal(errorOf("<p:a/>"), "not-well-formed");
    assert.equal(errorOf("<a p:b='1'/>"), "not-well-formed");
    assert.equal(errorOf("<a><b xmlns:p='u'/><p:c/></a>"), "not-well-formed");
    assert.equal(errorOf("<db:result/>"), "not-well-formed");
    assert.equal(errorOf("<stream:stream><a/>", true), "not-well-formed");
  });

  it("rejects misuse of the reserved prefixes and names (Namespaces in XML §3)", () => {
    assert.equal(errorOf("<a xmlns:p=''/>"), "not-well-formed");
    assert.equal(errorOf("<xmlns:a/>"), "not-well-formed");
    assert.equal(errorOf("<a xmlns:xmlns='u'/>"), "not-well-formed");
    assert.equal(errorOf("<a xmlns:xml='u'/>"), "not-well-formed");
    assert.equal(errorOf("<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>"), undefined);
    assert.equal(errorOf("<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>"), "not-well-formed");
    assert.equal(errorOf("<a xmlns='http://www.w3.org/2000/xmlns/'/>"), "not-well-formed");
  });

  it("rejects two attributes with the same namespace and local name", () => {
    assert.equal(errorOf("<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>"), "not-well-formed");
    assert.equal(errorOf("<a xmlns:p='u' xmlns:q='v' p:x='1' q:x='2'/>"), undefined);
  });

  it("restores a shadowed prefix binding when the inner element closes", () => {
    const ok = "<a xmlns:p='u1' xmlns:q='u2'><b p:x='1' q:x='2'/><c xmlns:p='u2'/><d p:x='1' q:x='2'/></a>";
    assert.equal(errorOf(ok), undefined);
    assert.equal(errorOf("<a xmlns:p='u1' xmlns:q='u2'><c xmlns:p='u2' p:x='1' q:x='2'/></a>"), "not-well-formed");
    assert.equal(errorOf("<a><c xmlns:p='u'/><d xmlns:q='u'><p:e/></d></a>"), "not-well-formed");
  });

  it("forgets the root's prefixes after reset()", () => {
    const r = recorder(LIMITS, { onStanza: (el) => el.name === "a" && r.parser.reset() });
    r.parser.write(`${HEADER}<a/><other xmlns:x='u'><x:b/>`);
    assert.deepEqual(r.events.slice(2), [
      ["start", "other", { "xmlns:x": "u" }],
      ["stanza", { n: "x:b", a: {}, c: [] }],
    ]);
    r.parser.write("<stream:error/>");
    assert.deepEqual(r.events.at(-1), ["error", "not-well-formed"]);
  });
});

describe("XmlStreamParser: limits", () => {
  const limits: XmlLimits = { maxStanzaBytes: 200, maxDepth: 4 };

  it("accepts a stanza of exactly maxStanzaBytes and rejects one byte more", () => {
    const make = (n: number) => {
      const s = `<a>${"x".repeat(n - 7)}</a>`;
      assert.equal(Buffer.byteLength(s), n);
      return s;
    };
    assert.deepEqual(parse([HEADER, make(200), make(200)], limits).length, 3);
    assert.deepEqual(parse([HEADER, make(201)], limits).at(-1), ["error", "policy-violation"]);
    assertChunkingInvariant(`${HEADER + make(200)}<a>${"é".repeat(100)}</a>`, limits);
  });

  it("counts bytes, not characters", () => {
    const s = `<a>${"€".repeat(64)}</a>`; // 199 bytes, 71 characters
    assert.equal(parse([HEADER + s], limits).length, 2);
    assert.deepEqual(parse([`${HEADER}<a>${"€".repeat(65)}</a>`], limits).at(-1), ["error", "policy-violation"]);
  });

  it("fails as soon as the limit is crossed, without waiting for the stanza to end", () => {
    const r = recorder({ maxStanzaBytes: 64 * 1024, maxDepth: 8 });
    r.parser.write(HEADER);
    r.parser.write("<message><body>");
    let writes = 0;
    while (r.events.at(-1)?.[0] !== "error" && writes < 1000) {
      r.parser.write("y".repeat(1024));
      writes++;
    }
    assert.equal(writes, 64);
    assert.deepEqual(r.events.at(-1), ["error", "policy-violation"]);
  });

  it("fails inside a huge start tag or attribute value too", () => {
    assert.equal(errorOf(`<a b='${"x".repeat(300)}'/>`, false, limits), "policy-violation");
    assert.equal(
      errorOf(`<a${Array.from({ length: 50 }, (_, i) => ` b${i}='1'`).join("")}/>`, false, limits),
      "policy-violation",
    );
    assert.equal(errorOf(`</stream:stream${" ".repeat(300)}>`, false, limits), "policy-violation");
    // A syntax error before the limit wins, however the input is split.
    const events = assertChunkingInvariant(`${HEADER}<a b='1' c=d e='${"x".repeat(300)}'/>`, limits);
    assert.deepEqual(events.at(-1), ["error", "not-well-formed"]);
  });

  it("caps the stream header, including what precedes it", () => {
    const big = `<stream:stream xmlns:stream='s' x='${"x".repeat(300)}'>`;
    assert.deepEqual(parse([big], limits), [["error", "policy-violation"]]);
    assert.deepEqual(parse([" ".repeat(300)], limits), [["error", "policy-violation"]]);
  });

  it("does not count whitespace keepalives between stanzas", () => {
    const r = recorder(limits);
    r.parser.write(HEADER);
    for (let i = 0; i < 1000; i++) r.parser.write("  ");
    r.parser.write("<a/>");
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "stanza"],
    );
  });

  it("limits nesting depth, counting the stanza as 1", () => {
    assert.equal(errorOf("<a><b><c><d/></c></b></a>", false, limits), undefined);
    assert.equal(errorOf("<a><b><c><d><e/></d></c></b></a>", false, limits), "policy-violation");
  });

  it(`limits attributes to ${MAX_ATTRIBUTES} per element`, () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join("");
    assert.equal(errorOf(`<a${attrs(MAX_ATTRIBUTES)}/>`), undefined);
    assert.equal(errorOf(`<a${attrs(MAX_ATTRIBUTES + 1)}/>`), "policy-violation");
  });

  it("cannot be made to expand entities: a body of references is parsed linearly", () => {
    const body = `<a>${"&amp;".repeat(1000)}</a>`;
    const events = parse([HEADER + body], { maxStanzaBytes: 10_000, maxDepth: 4 });
    assert.deepEqual(events[1], ["stanza", { n: "a", a: {}, c: ["&".repeat(1000)] }]);
  });
});

describe("XmlStreamParser: control", () => {
  it("reset() inside onStanza parses the rest of the chunk as a new stream", () => {
    const r = recorder(LIMITS, {
      onStanza: (el) => {
        if (el.name === "auth") r.parser.reset();
      },
    });
    r.parser.write(`${HEADER}<auth mechanism='PLAIN'>AGp1bGlldABy</auth>${HEADER}<iq type='set' id='b'/>`);
    assert.deepEqual(r.events, [
      ["start", "stream:stream", STREAM_ATTRS],
      ["stanza", { n: "auth", a: { mechanism: "PLAIN" }, c: ["AGp1bGlldABy"] }],
      ["start", "stream:stream", STREAM_ATTRS],
      ["stanza", { n: "iq", a: { type: "set", id: "b" }, c: [] }],
    ]);
  });

  it("reset() between writes starts a new stream, even with a partial header retained", () => {
    const r = recorder();
    r.parser.write(`${HEADER}<a/><b>partial`);
    r.parser.reset();
    r.parser.write(HEADER.slice(0, 30));
    r.parser.write(`${HEADER.slice(30)}<c/>`);
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "stanza", "start", "stanza"],
    );
    assert.deepEqual(r.events[3], ["stanza", { n: "c", a: {}, c: [] }]);
  });

  it("reset() keeps a pending '<' received between stanzas", () => {
    const r = recorder();
    r.parser.write(`${HEADER}<a/><`);
    r.parser.reset();
    r.parser.write(`${HEADER.slice(1)}<c/>`);
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "stanza", "start", "stanza"],
    );
  });

  it("stop() inside a handler ignores the rest of the chunk and later writes", () => {
    const r = recorder(LIMITS, { onStanza: () => r.parser.stop() });
    r.parser.write(`${HEADER}<a/><b/>garbage`);
    r.parser.write("<c/>");
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "stanza"],
    );
  });

  it("reports only the first error, then ignores input", () => {
    const r = recorder();
    r.parser.write(`${HEADER}<a>&bogus;</a><b/>`);
    r.parser.write("<!-- more -->");
    r.parser.reset();
    r.parser.write(HEADER);
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "error"],
    );
  });

  it("never throws for bad input", () => {
    const r = rng(1);
    const alphabet = [
      "<",
      ">",
      "/",
      "'",
      '"',
      "=",
      "&",
      ";",
      "#",
      "x",
      "a",
      ":",
      " ",
      "!",
      "?",
      "[",
      "]",
      "é",
      "\u0000",
    ];
    for (let i = 0; i < 300; i++) {
      let s = HEADER;
      const n = Math.floor(r() * 40);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * alphabet.length)];
      assert.doesNotThrow(() => assertChunkingInvariant(s, { maxStanzaBytes: 30, maxDepth: 3 }));
    }
  });

  it("queues a write() made from inside a handler after the current chunk", () => {
    const r = recorder(LIMITS, {
      onStanza: (el) => {
        if (el.name === "a") r.parser.write("<c/>");
      },
    });
    r.parser.write(`${HEADER}<a/><b/>`);
    assert.deepEqual(
      r.events.slice(1).map((e) => (e[0] === "stanza" ? e[1].n : e[0])),
      ["a", "b", "c"],
    );
  });

  it("lets a handler's exception propagate and stops", () => {
    const r = recorder(LIMITS, {
      onStanza: () => {
        throw new Error("boom");
      },
    });
    assert.throws(() => r.parser.write(`${HEADER}<a/><b/>`), /boom/);
    r.parser.write("<c/>");
    assert.deepEqual(
      r.events.map((e) => e[0]),
      ["start", "stanza"],
    );
  });

  it("rejects non-positive limits", () => {
    assert.throws(() => recorder({ maxStanzaBytes: 0, maxDepth: 1 }), RangeError);
  });
});
