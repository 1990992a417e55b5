import assert from "node:assert/strict";
import { test } from "node:test";
import { childText, parseStartTag, StanzaSplitter } from "../client/stanza-splitter.ts";

function collect() {
  const events: string[] = [];
  const splitter = new StanzaSplitter({
    streamOpen: (tag) => events.push("open:" + tag),
    element: (xml) => events.push(xml),
    streamClose: () => events.push("close"),
  });
  return { events, splitter };
}

const STREAM =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>" +
  "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>" +
  " \n<message to='a@b' id='1'><body>a &gt; b &amp; c</body><x a=\"q'>/\"/></message>" +
  "<presence from='c@d/r'/><!-- comment <x> --><iq type='result'><q><![CDATA[<not><a><tag>]]></q></iq>" +
  "</stream:stream>";

test("splits a stream fed in one piece", () => {
  const { events, splitter } = collect();
  splitter.push(STREAM);
  assert.equal(events.length, 6);
  assert.match(events[0]!, /^open:<stream:stream /);
  assert.match(events[1]!, /^<stream:features>.*<\/stream:features>$/);
  assert.equal(events[2], "<message to='a@b' id='1'><body>a &gt; b &amp; c</body><x a=\"q'>/\"/></message>");
  assert.equal(events[3], "<presence from='c@d/r'/>");
  assert.equal(events[4], "<iq type='result'><q><![CDATA[<not><a><tag>]]></q></iq>");
  assert.equal(events[5], "close");
});

test("gives the same result for every chunking, down to one character at a time", () => {
  const whole = collect();
  whole.splitter.push(STREAM);
  for (const size of [1, 2, 3, 5, 7, 13, 64]) {
    const { events, splitter } = collect();
    for (let i = 0; i < STREAM.length; i += size) splitter.push(STREAM.slice(i, i + size));
    assert.deepEqual(events, whole.events, `chunk size ${size}`);
  }
});

test("reset inside a callback drops the old stream and accepts a new header", () => {
  const events: string[] = [];
  const splitter: StanzaSplitter = new StanzaSplitter({
    streamOpen: (tag) => events.push("open:" + tag.slice(0, 14)),
    element: (xml) => {
      events.push(xml);
      if (xml.startsWith("<success")) splitter.reset();
    },
    streamClose: () => events.push("close"),
  });
  splitter.push("<stream:stream a='1'><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
  splitter.push("<stream:stream a='2'><stream:features/>");
  assert.deepEqual(events, [
    "open:<stream:stream",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "open:<stream:stream",
    "<stream:features/>",
  ]);
});

test("counts many small stanzas exactly", () => {
  const { events, splitter } = collect();
  splitter.push("<stream:stream>");
  let text = "";
  for (let i = 0; i < 1000; i++) text += `<message id='${i}'><body>${i}</body></message>`;
  for (let i = 0; i < text.length; i += 37) splitter.push(text.slice(i, i + 37));
  assert.equal(events.length, 1001);
  assert.equal(events[1000], "<message id='999'><body>999</body></message>");
});

test("rejects a DTD", () => {
  const { splitter } = collect();
  assert.throws(() => splitter.push("<!DOCTYPE foo [ ]><stream:stream>"), /DTD/);
});

test("parseStartTag reads both quote styles and decodes entities", () => {
  const t = parseStartTag(`<message type="chat" from='a@b/c&apos;d' to = 'x'><body/></message>`);
  assert.equal(t.name, "message");
  assert.deepEqual(t.attrs, { type: "chat", from: "a@b/c'd", to: "x" });
  assert.equal(parseStartTag("<stream:features/>").name, "stream:features");
});

test("childText finds the named child only", () => {
  assert.equal(childText("<message><bodyx>no</bodyx><body>1 &lt; 2</body></message>", "body"), "1 < 2");
  assert.equal(childText("<message/>", "body"), undefined);
});
