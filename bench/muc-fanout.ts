/**
 * MUC fan-out cost: how long Hearth takes to deliver one groupchat message to every occupant of a room of 100 and
 * of 1000 occupants (XEP-0045 §7.4).
 *
 *     npx tsx bench/muc-fanout.ts [--sizes 100,1000] [--messages 30]
 *
 * Runs Hearth in this process with a throwaway data dir, logs N sessions in over direct TLS (SASL PLAIN), joins
 * them to one room and measures, per message:
 * - server: from handing the message to the router until the room has routed every copy (each one serialized
 *   and written to its TLS socket) — the server's own cost;
 * - end to end: from the owner's client writing the message until the last of the N clients has parsed its copy
 *   (client parsing runs in the same process, so this is pessimistic).
 * The room is configured so that only moderators' presence is broadcast, which keeps the N joins O(N); it does
 * not change the cost of a message. Room archiving stays on (one archive write per message, as by default).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { AccountManager } from "../src/accounts/manager.ts";
import { buildConfig } from "../src/config/load.ts";
import { createLogger } from "../src/log.ts";
import { type HearthServer, startServer } from "../src/server.ts";
import { openStorage } from "../src/storage/open.ts";
import { type XmlElement, xml } from "../src/xml/element.ts";
import { XmlStreamParser } from "../src/xml/parser.ts";

const DOMAIN = "localhost";
const SERVICE = `conference.${DOMAIN}`;
const PER_ACCOUNT = 100;
const ROOM_CONFIG = "http://jabber.org/protocol/muc#roomconfig";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

/** A minimal logged-in client: one TLS socket, one parser, a stanza callback. */
class Client {
  private parser!: XmlStreamParser;
  private waiters: { pred: (el: XmlElement) => boolean; resolve: (el: XmlElement) => void }[] = [];
  onStanza: (el: XmlElement) => void = () => {};
  jid = "";

  private constructor(private readonly socket: TLSSocket) {
    this.reset();
    socket.on("data", (chunk: Buffer) => this.parser.write(chunk));
    socket.on("error", () => {});
  }

  static async login(port: number, user: string, resource: string): Promise<Client> {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["xmpp-client"] });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    const c = new Client(socket);
    c.header();
    await c.wait((el) => el.name === "stream:features");
    c.send(
      xml(
        "auth",
        { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl", mechanism: "PLAIN" },
        Buffer.from(`\0${user}\0pw`).toString("base64"),
      ),
    );
    const outcome = await c.wait((el) => el.name === "success" || el.name === "failure");
    if (outcome.name !== "success") throw new Error(`login failed for ${user}`);
    c.reset();
    c.header();
    await c.wait((el) => el.name === "stream:features");
    c.send(
      xml(
        "iq",
        { type: "set", id: "bind" },
        xml("bind", { xmlns: "urn:ietf:params:xml:ns:xmpp-bind" }, xml("resource", null, resource)),
      ),
    );
    const bound = await c.wait((el) => el.name === "iq" && el.attrs.id === "bind");
    c.jid = bound.getChild("bind")?.getChildText("jid") ?? "";
    return c;
  }

  private reset(): void {
    this.parser = new XmlStreamParser(
      {
        onStreamStart: () => {},
        onStanza: (el) => this.dispatch(el),
        onStreamEnd: () => {},
        onError: () => {},
      },
      { maxStanzaBytes: 1 << 20, maxDepth: 100 },
    );
  }

  private header(): void {
    this.socket.write(
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`,
    );
  }

  private dispatch(el: XmlElement): void {
    const i = this.waiters.findIndex((w) => w.pred(el));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w?.resolve(el);
      return;
    }
    this.onStanza(el);
  }

  wait(pred: (el: XmlElement) => boolean, timeoutMs = 30_000): Promise<XmlElement> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (el) => {
          clearTimeout(t);
          resolve(el);
        },
      });
    });
  }

  send(el: XmlElement | string): void {
    this.socket.write(el.toString());
  }

  close(): void {
    this.socket.end("</stream:stream>");
  }
}

async function joinRoom(c: Client, room: string, nick: string): Promise<XmlElement> {
  const subject = c.wait((el) => el.name === "message" && el.getChild("subject") !== undefined);
  const self = c.wait(
    (el) =>
      el.name === "presence" &&
      el.attrs.from === `${room}/${nick}` &&
      (el.getChild("x", "http://jabber.org/protocol/muc#user")?.getChildren("status") ?? []).some(
        (s) => s.attrs.code === "110",
      ),
  );
  c.send(
    xml(
      "presence",
      { to: `${room}/${nick}` },
      xml("x", { xmlns: "http://jabber.org/protocol/muc" }, xml("history", { maxstanzas: "0" })),
    ),
  );
  const p = await self;
  await subject;
  return p;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Result {
  occupants: number;
  messages: number;
  server_ms_p50: number;
  server_ms_p90: number;
  server_us_per_delivery: number;
  e2e_ms_p50: number;
  e2e_ms_p90: number;
  join_s: number;
}

async function measure(server: HearthServer, size: number, messages: number): Promise<Result> {
  const port = server.listening.find((l) => l.name === "c2s-direct-tls")?.port ?? 0;
  const room = `fanout${size}@${SERVICE}`;
  const started = performance.now();
  const owner = await Client.login(port, "u0", `owner${size}`);
  await joinRoom(owner, room, "owner");
  const form = xml(
    "x",
    { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", null, ROOM_CONFIG)),
    xml("field", { var: "muc#roomconfig_presencebroadcast" }, xml("value", null, "moderator")),
    xml("field", { var: "muc#roomconfig_maxusers" }, xml("value", null, String(size))),
  );
  owner.send(
    xml(
      "iq",
      { type: "set", id: "cfg", to: room },
      xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, form),
    ),
  );
  await owner.wait((el) => el.name === "iq" && el.attrs.id === "cfg");

  const clients: Client[] = [owner];
  const batch = 50;
  for (let i = 1; i < size; i += batch) {
    const group = await Promise.all(
      Array.from({ length: Math.min(batch, size - i) }, async (_, k) => {
        const n = i + k;
        const c = await Client.login(port, `u${Math.floor(n / PER_ACCOUNT)}`, `r${size}-${n}`);
        await joinRoom(c, room, `occupant${n}`);
        return c;
      }),
    );
    clients.push(...group);
  }
  const joinS = (performance.now() - started) / 1000;

  // Every client counts the probes it receives; a probe is complete once all `size` copies arrived.
  let expected = "";
  let received = 0;
  let lastArrival = 0;
  let complete: () => void = () => {};
  for (const c of clients) {
    c.onStanza = (el) => {
      if (el.name === "message" && el.getChildText("body") === expected) {
        received++;
        lastArrival = performance.now();
        if (received === size) complete();
      }
    };
  }
  const probe = async (body: string, send: () => Promise<void>): Promise<{ serverMs: number; e2eMs: number }> => {
    expected = body;
    received = 0;
    const done = new Promise<void>((r) => {
      complete = r;
    });
    const t0 = performance.now();
    await send();
    const serverMs = performance.now() - t0;
    await done;
    return { serverMs, e2eMs: lastArrival - t0 };
  };

  const core = server.core;
  const viaRouter = (body: string) => () =>
    core.router.route(xml("message", { from: owner.jid, to: room, type: "groupchat" }, xml("body", null, body)), null);
  const viaClient = (body: string) => async () => {
    owner.send(xml("message", { to: room, type: "groupchat" }, xml("body", null, body)));
  };
  for (let i = 0; i < 5; i++) await probe(`warmup-${i}`, viaRouter(`warmup-${i}`));
  const serverMs: number[] = [];
  const e2e: number[] = [];
  for (let i = 0; i < messages; i++) {
    serverMs.push((await probe(`server-${i}`, viaRouter(`server-${i}`))).serverMs);
    e2e.push((await probe(`e2e-${i}`, viaClient(`e2e-${i}`))).e2eMs);
  }
  serverMs.sort((a, b) => a - b);
  e2e.sort((a, b) => a - b);
  for (const c of clients) c.close();
  await new Promise((r) => setTimeout(r, 500));
  const p50 = percentile(serverMs, 50);
  return {
    occupants: size,
    messages,
    server_ms_p50: round(p50),
    server_ms_p90: round(percentile(serverMs, 90)),
    server_us_per_delivery: round((p50 * 1000) / size),
    e2e_ms_p50: round(percentile(e2e, 50)),
    e2e_ms_p90: round(percentile(e2e, 90)),
    join_s: round(joinS),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main(): Promise<void> {
  const sizes = arg("sizes", "100,1000").split(",").map(Number);
  const messages = Number(arg("messages", "30"));
  const largest = Math.max(...sizes);
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-muc-fanout-"));
  const config = buildConfig({
    hosts: [DOMAIN],
    data_dir: dataDir,
    log: { level: "warn", format: "json" },
    c2s: {
      interfaces: ["127.0.0.1"],
      port: -1,
      tls_port: 0,
      max_resources: PER_ACCOUNT,
      max_connections: largest * 3,
      ping_interval: 0,
    },
    http: { interfaces: ["127.0.0.1"], port: -1, tls_port: -1 },
    component_listener: { interfaces: ["127.0.0.1"], port: -1 },
    auth: { scram_iterations: 4096, max_failures_per_ip: 1_000_000 },
    muc: { message_rate: 0, max_occupants: largest },
  });
  const storage = await openStorage({ driver: "sqlite", path: join(dataDir, config.storage.sqlite_file) });
  const accounts = new AccountManager(storage, { iterations: config.auth.scram_iterations, hosts: config.hosts });
  for (let i = 0; i < Math.ceil(largest / PER_ACCOUNT); i++) await accounts.create(`u${i}@${DOMAIN}`, "pw");
  await storage.close();
  const server = await startServer(config, { logger: createLogger(config.log) });
  const results: Result[] = [];
  try {
    for (const size of sizes) {
      const r = await measure(server, size, messages);
      results.push(r);
      console.log(
        `room of ${r.occupants}: server ${r.server_ms_p50} ms p50 / ${r.server_ms_p90} ms p90 ` +
          `(${r.server_us_per_delivery} µs per delivery), end to end ${r.e2e_ms_p50} ms p50 / ${r.e2e_ms_p90} ms p90 ` +
          `(${r.messages} messages; ${r.join_s} s to log in and join)`,
      );
    }
  } finally {
    await server.stop("benchmark done");
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ node: process.version, results }));
}

await main();
