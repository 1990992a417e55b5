import { randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { parseDocument } from "../../src/xml/document.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { ScramClient } from "./scram-client.ts";
import type { TestServer } from "./server.ts";

const DEFAULT_TIMEOUT = 3000;
const LIMITS = { maxStanzaBytes: 10 * 1024 * 1024, maxDepth: 100 };
export const NS_HTTPBIND = "http://jabber.org/protocol/httpbind";
export const NS_XBOSH = "urn:xmpp:xbosh";

/** The HTTP (or HTTPS) port of a test server started with `http: { port: 0, tls_port: 0 }`. */
export function httpPort(ts: TestServer, tls = false): number {
  const l = ts.server.listening.find((x) => x.name === (tls ? "https" : "http"));
  if (!l) throw new Error("the test server has no HTTP listener");
  return l.port;
}

/** Collects received elements and waits for them, like RawConnection does for TCP. */
class Inbox {
  readonly items: XmlElement[] = [];
  private waiters: (() => void)[] = [];
  done = false;

  push(el: XmlElement): void {
    this.items.push(el);
    this.wake();
  }

  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async next(pred: (el: XmlElement) => boolean, timeout = DEFAULT_TIMEOUT): Promise<XmlElement> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const i = this.items.findIndex(pred);
      if (i >= 0) return this.items.splice(i, 1)[0] as XmlElement;
      const left = deadline - Date.now();
      if (left <= 0 || this.done) {
        throw new Error(
          `timed out waiting; unconsumed: ${this.items.map((e) => e.toString()).join(" | ") || "(nothing)"}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async nothing(ms: number, pred: (el: XmlElement) => boolean): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.items.find(pred);
    if (hit) throw new Error(`expected nothing, got ${hit}`);
  }
}

/** Conveniences shared by the WebSocket and BOSH test clients. */
export interface WebClient {
  jid: string;
  send(el: XmlElement | string): void;
  expect(pred: (el: XmlElement) => boolean, timeout?: number): Promise<XmlElement>;
  iq(el: XmlElement, timeout?: number): Promise<XmlElement>;
  nothing(ms?: number, pred?: (el: XmlElement) => boolean): Promise<void>;
  close(): Promise<void>;
}

/** What the WebSocket and BOSH clients do alike once elements land in their inbox. */
abstract class InboxClient implements WebClient {
  readonly inbox = new Inbox();
  jid = "";

  abstract send(el: XmlElement | string): void;
  abstract close(): Promise<void>;

  expect(pred: (el: XmlElement) => boolean, timeout?: number): Promise<XmlElement> {
    return this.inbox.next(pred, timeout);
  }

  iq(el: XmlElement, timeout?: number): Promise<XmlElement> {
    el.attrs.id ??= `t-${randomBytes(4).toString("hex")}`;
    const id = el.attrs.id;
    this.send(el);
    return this.expect(
      (s) => s.name === "iq" && s.attrs.id === id && (s.attrs.type === "result" || s.attrs.type === "error"),
      timeout,
    );
  }

  nothing(ms = 300, pred: (el: XmlElement) => boolean = () => true): Promise<void> {
    return this.inbox.nothing(ms, pred);
  }
}

// ---- WebSocket -------------------------------------------------------------------------------------------

/** A raw RFC 7395 connection: every text frame received is parsed into an element. */
export class WsConnection extends InboxClient {
  /** The TLS socket under a wss connection (for channel binding). */
  tls: TLSSocket | null = null;
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on("message", (data: Buffer) => this.inbox.push(parseDocument(data, LIMITS)));
    this.closed = new Promise((resolve) => {
      ws.on("close", (code) => {
        this.inbox.done = true;
        this.inbox.wake();
        resolve({ code });
      });
    });
  }

  /** Opens a WebSocket (subprotocol `xmpp` unless told otherwise). Rejects with the HTTP status if refused. */
  static open(
    url: string,
    opts: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<WsConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.protocols ?? ["xmpp"], { rejectUnauthorized: false, headers: opts.headers });
      let tls: TLSSocket | null = null;
      ws.on("upgrade", (res) => {
        if ("encrypted" in res.socket) tls = res.socket as TLSSocket;
      });
      ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on("error", reject);
      ws.on("open", () => {
        ws.off("error", reject);
        ws.on("error", () => {});
        const conn = new WsConnection(ws);
        conn.tls = tls;
        resolve(conn);
      });
    });
  }

  send(el: XmlElement | string): void {
    this.ws.send(typeof el === "string" ? el : el.toString());
  }

  /** Sends `<open/>` for a (re)started stream. */
  open(to: string): void {
    this.send(xml("open", { xmlns: NS.framing, to, version: "1.0", "xml:lang": "en" }));
  }

  element(name: string, xmlns?: string, timeout?: number): Promise<XmlElement> {
    return this.inbox.next((el) => el.name === name && (xmlns === undefined || el.attrs.xmlns === xmlns), timeout);
  }

  /** RFC 7395 §3.6: `<close/>`, wait for the server's `<close/>` and the end of the connection. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.send(xml("close", { xmlns: NS.framing }));
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000))]);
    this.ws.terminate();
  }
}

export interface WebLoginOptions {
  /** PLAIN (default), SCRAM-SHA-1/256/512, or a -PLUS variant (wss only). */
  mechanism?: string;
  resource?: string;
  headers?: Record<string, string>;
}

/** Logs in over WebSocket: open, SASL, restart, bind. */
export async function wsLogin(url: string, jid: string, password: string, opts: WebLoginOptions = {}) {
  const [user, domain] = jid.split("@") as [string, string];
  const conn = await WsConnection.open(url, { headers: opts.headers });
  conn.open(domain);
  await conn.element("open", NS.framing);
  await conn.element("stream:features");
  await saslExchange(conn, user, password, opts.mechanism ?? "PLAIN", () => conn.tls);
  conn.open(domain);
  await conn.element("open", NS.framing);
  await conn.element("stream:features");
  conn.jid = await bind(conn, opts.resource);
  return conn;
}

// ---- SASL and bind, over any WebClient -------------------------------------------------------------------

/** One SASL exchange; throws with the failure condition. */
export async function saslExchange(
  conn: WebClient,
  user: string,
  password: string,
  mechanism: string,
  tls: () => TLSSocket | null = () => null,
): Promise<void> {
  const sasl = (name: string, text?: string, attrs: Record<string, string> = {}) =>
    conn.send(xml(name, { xmlns: NS.sasl, ...attrs }, text));
  const outcome = async () => {
    const el = await conn.expect(
      (e) => e.attrs.xmlns === NS.sasl && ["success", "failure", "challenge"].includes(e.name),
    );
    if (el.name === "failure") throw new Error(`SASL failed: ${el.firstElement()?.name}`);
    return el;
  };
  if (mechanism === "PLAIN") {
    sasl("auth", Buffer.from(`\0${user}\0${password}`).toString("base64"), { mechanism });
    await outcome();
    return;
  }
  const m = /^SCRAM-(SHA-1|SHA-256|SHA-512)(-PLUS)?$/.exec(mechanism);
  if (!m) throw new Error(`unsupported mechanism ${mechanism}`);
  let cb: { type: string; data: Buffer } | null = null;
  if (m[2]) {
    const socket = tls();
    if (!socket) throw new Error("-PLUS needs TLS");
    cb = { type: "tls-exporter", data: socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)) };
  }
  const scram = new ScramClient(m[1] as "SHA-256", user, password, cb);
  sasl("auth", Buffer.from(scram.first()).toString("base64"), { mechanism });
  const challenge = await outcome();
  sasl("response", Buffer.from(scram.final(Buffer.from(challenge.text(), "base64").toString())).toString("base64"));
  const success = await outcome();
  if (!scram.verify(Buffer.from(success.text(), "base64").toString())) throw new Error("server signature mismatch");
}

async function bind(conn: WebClient, resource?: string): Promise<string> {
  const res = await conn.iq(
    xml("iq", { type: "set" }, xml("bind", { xmlns: NS.bind }, resource ? xml("resource", null, resource) : undefined)),
  );
  const jid = res.getChild("bind", NS.bind)?.getChildText("jid");
  if (res.attrs.type !== "result" || !jid) throw new Error(`bind failed: ${res}`);
  return jid;
}

// ---- BOSH ------------------------------------------------------------------------------------------------

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request with a body (plain or TLS, self-signed accepted). */
export function httpCall(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: opts.method ?? "GET",
        headers: { ...(opts.body !== undefined ? { "Content-Type": "text/xml; charset=utf-8" } : {}), ...opts.headers },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Builds a request `<body/>`. */
export function boshBody(attrs: Record<string, string>, payload: (XmlElement | string)[] = []): string {
  const el = xml("body", { xmlns: NS_HTTPBIND, "xmlns:xmpp": NS_XBOSH, ...attrs });
  return el.children.length === 0 && payload.length === 0
    ? el.toString()
    : `${el.toString().slice(0, -2)}>${payload.map(String).join("")}</body>`;
}

/**
 * A BOSH client for tests. `post()` sends exactly one request; after `startPolling()` it keeps one request
 * open in the background, and every stanza that arrives in any response lands in the inbox.
 */
export class BoshClient extends InboxClient {
  sid = "";
  rid = Math.floor(Math.random() * 1e9) + 1e6;
  /** Every response body, in arrival order. */
  readonly bodies: XmlElement[] = [];
  private polling = false;
  private open = 0;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {
    super();
  }

  /** Creates the session; returns the creation response. */
  async create(to: string, attrs: Record<string, string> = {}): Promise<XmlElement> {
    const body = await this.post({
      to,
      "xml:lang": "en",
      ver: "1.11",
      wait: "10",
      hold: "1",
      "xmpp:version": "1.0",
      ...attrs,
    });
    this.sid = body.attrs.sid ?? "";
    return body;
  }

  /** Sends one request with the next rid (or the given one) and returns the parsed response body. */
  async post(
    attrs: Record<string, string> = {},
    payload: (XmlElement | string)[] = [],
    rid = ++this.rid,
  ): Promise<XmlElement> {
    const a = { rid: String(rid), ...(this.sid ? { sid: this.sid } : {}), ...attrs };
    this.open++;
    try {
      const res = await httpCall(this.url, { method: "POST", body: boshBody(a, payload), headers: this.headers });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text}`);
      const body = parseDocument(res.text, LIMITS);
      this.bodies.push(body);
      for (const el of body.elements()) this.inbox.push(el);
      if (body.attrs.type === "terminate") {
        this.polling = false;
        this.inbox.done = true;
        this.inbox.wake();
      }
      return body;
    } finally {
      this.open--;
    }
  }

  /** Keeps one empty request open at all times (what real clients do), until stopped or terminated. */
  startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    const loop = async () => {
      while (this.polling) {
        if (this.open > 0) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        try {
          await this.post();
        } catch {
          this.polling = false;
        }
      }
    };
    void loop();
  }

  stopPolling(): void {
    this.polling = false;
  }

  send(el: XmlElement | string): void {
    void this.post({}, [el]).catch(() => {});
  }

  /** Ends the session with `type='terminate'` (XEP-0124 §13). */
  async close(): Promise<void> {
    this.polling = false;
    if (this.inbox.done) return;
    await this.post({ type: "terminate" }, [xml("presence", { type: "unavailable", xmlns: NS.client })]).catch(
      () => {},
    );
  }
}

/** Logs in over BOSH: create, SASL, restart, bind; then keeps a request open. */
export async function boshLogin(url: string, jid: string, password: string, opts: WebLoginOptions = {}) {
  const [user, domain] = jid.split("@") as [string, string];
  const client = new BoshClient(url, opts.headers);
  const created = await client.create(domain);
  if (!created.getChild("features", NS.stream) && !created.getChild("stream:features")) {
    throw new Error(`no features in ${created}`);
  }
  client.inbox.items.length = 0;
  client.startPolling();
  await saslExchange(client, user, password, opts.mechanism ?? "PLAIN");
  client.stopPolling();
  const restarted = await client.post({ "xmpp:restart": "true", to: domain });
  // The restart answer may be released empty by the poll still open; the features then come on the next one.
  if (!restarted.getChild("stream:features")) await client.post();
  await client.expect((el) => el.name === "stream:features");
  client.startPolling();
  client.jid = await bind(client, opts.resource);
  return client;
}
