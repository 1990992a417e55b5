/**
 * Micro-benchmark for the streaming XML parser (the server's hot path). Not a test.
 *
 *   node --import tsx bench/xml-parser.ts [stanzas=20000] [rounds=5]
 *
 * Feeds a realistic c2s stream — message stanzas with attributes, a body (some non-ASCII, some escaped
 * characters), namespaced extension children, plus presences and iqs — as Buffers in several chunkings, and prints
 * throughput in MB/s and stanzas/s (best of `rounds`).
 */
import { type StreamHandler, XmlStreamParser } from "../src/xml/parser.ts";

const STANZAS = Number(process.argv[2] ?? 20000);
const ROUNDS = Number(process.argv[3] ?? 5);

/** Deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["hello", "there", "how", "are", "you", "doing", "today", "meeting", "at", "noon", "see", "you", "soon"];
const INTL = ["héllo", "grüße", "café", "naïve", "привет", "こんにちは", "你好", "🙂", "👍🏽", "Ω≈ç√"];

function body(r: () => number): string {
  const n = 3 + Math.floor(r() * 25);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    words.push(
      x < 0.1
        ? INTL[Math.floor(r() * INTL.length)]!
        : x < 0.13
          ? "&amp; &lt;3 &quot;ok&quot;"
          : WORDS[Math.floor(r() * WORDS.length)]!,
    );
  }
  return words.join(" ");
}

function stanza(r: () => number, i: number): string {
  const x = r();
  const id = `${i.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`;
  if (x < 0.75) {
    return (
      `<message to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat' id='${id}' xml:lang='en'>` +
      `<body>${body(r)}</body>` +
      `<active xmlns='http://jabber.org/protocol/chatstates'/>` +
      `<request xmlns='urn:xmpp:receipts'/>` +
      `<origin-id xmlns='urn:xmpp:sid:0' id='${id}'/>` +
      (r() < 0.3 ? `<markable xmlns='urn:xmpp:chat-markers:0'/>` : "") +
      `</message>`
    );
  }
  if (x < 0.9) {
    return (
      `<presence from='romeo@montague.lit/orchard' id='${id}'><show>away</show><status>${body(r)}</status>` +
      `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` +
      `<priority>5</priority></presence>`
    );
  }
  return (
    `<iq type='get' id='${id}' to='montague.lit'><query xmlns='http://jabber.org/protocol/disco#info' ` +
    `node='http://jabber.org/protocol/commands'/></iq>`
  );
}

function buildStream(n: number): Buffer {
  const r = rng(42);
  const parts = [
    `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
      `to='montague.lit' version='1.0' xml:lang='en'>`,
  ];
  for (let i = 0; i < n; i++) {
    parts.push(stanza(r, i));
    if (i % 50 === 49) parts.push(" "); // whitespace keepalive
  }
  parts.push("</stream:stream>");
  return Buffer.from(parts.join(""), "utf8");
}

/** Splits `data` into chunks whose sizes come from `size()`. */
function chunk(data: Buffer, size: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = Math.max(1, size());
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

function run(chunks: Buffer[]): number {
  let stanzas = 0;
  const handler: StreamHandler = {
    onStreamStart() {},
    onStanza() {
      stanzas++;
    },
    onStreamEnd() {},
    onError(err) {
      throw err;
    },
  };
  const parser = new XmlStreamParser(handler, { maxStanzaBytes: 256 * 1024, maxDepth: 32 });
  for (const c of chunks) parser.write(c);
  return stanzas;
}

const data = buildStream(STANZAS);
const r = rng(7);
const layouts: [string, Buffer[]][] = [
  ["whole stream, one write", [data]],
  ["64 KiB chunks", chunk(data, () => 65536)],
  ["1500-byte chunks (MTU)", chunk(data, () => 1500)],
  ["random 1..4096", chunk(data, () => 1 + Math.floor(r() * 4096))],
  ["random 1..64", chunk(data, () => 1 + Math.floor(r() * 64))],
];

console.log(`stream: ${(data.length / 1e6).toFixed(2)} MB, ${STANZAS} stanzas, best of ${ROUNDS} rounds`);
for (const [name, chunks] of layouts) {
  run(chunks); // warm-up
  let best = Number.POSITIVE_INFINITY;
  let count = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    count = run(chunks);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
  }
  if (count !== STANZAS) throw new Error(`expected ${STANZAS} stanzas, got ${count}`);
  const mbps = data.length / 1e6 / best;
  console.log(
    `${name.padEnd(26)} ${mbps.toFixed(1).padStart(7)} MB/s ${Math.round(count / best)
      .toLocaleString("en")
      .padStart(11)} stanzas/s  (${chunks.length} writes)`,
  );
}
