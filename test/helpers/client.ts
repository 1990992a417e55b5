import { randomBytes } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { XmlStreamParser } from "../../src/xml/parser.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { ScramClient } from "./scram-client.ts";
import type { TestServer } from "./server.ts";

/** Everything the server sent, in order, as the test sees it. */
export type Received =
  | { kind: "open"; attrs: Record<string, string> }
  | { kind: "element"; el: XmlElement }
  | { kind: "close" }
  | { kind: "parse-error"; condition: string };

const DEFAULT_TIMEOUT = 3000;

/**
 * A raw XMPP connection for tests: writes exactly what the test says and records exactly what the server
 * answers. Use it for protocol edges; use `connectClient` for an ordinary logged-in client.
 */
export class RawConnection {
  socket: Socket;
  readonly received: Received[] = [];
  private parser: XmlStreamParser;
  private waiters: (() => void)[] = [];
  /** Resolves when the server closes the TCP connection. */
  readonly disconnected: Promise<void>;
  private isDisconnected = false;
  private resolveDisconnected!: () => void;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.parser = this.makeParser();
    this.disconnected = new Promise((r) => {
      this.resolveDisconnected = r;
    });
    this.wire(socket);
  }

  static async open(port: number, opts: { tls?: boolean; host?: string } = {}): Promise<RawConnection> {
    const host = opts.host ?? "127.0.0.1";
    const socket = opts.tls
      ? tlsConnect({ host, port, rejectUnauthorized: false, ALPNProtocols: ["xmpp-client"] })
      : netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    return new RawConnection(socket);
  }

  get closed(): boolean {
    return this.isDisconnected;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(el: XmlElement): void {
    this.socket.write(el.toString());
  }

  /** Sends our stream header (jabber:client unless told otherwise). */
  openStream(to: string, extra: Record<string, string> = {}, ns: string = NS.client): void {
    const attrs = { to, version: "1.0", "xml:lang": "en", ...extra };
    const a = Object.entries(attrs)
      .map(([k, v]) => ` ${k}='${v}'`)
      .join("");
    this.write(`<?xml version='1.0'?><stream:stream xmlns='${ns}' xmlns:stream='${NS.stream}'${a}>`);
  }

  /** Waits for the next received item matching `pred` (searching everything not yet consumed). */
  async next(pred: (r: Received) => boolean = () => true, timeout = DEFAULT_TIMEOUT): Promise<Received> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0] as Received;
      const left = deadline - Date.now();
      if (left <= 0 || this.isDisconnected) {
        throw new Error(
          `timed out waiting; unconsumed: ${this.received.map(describe).join(" | ") || "(nothing)"}${this.isDisconnected ? " [disconnected]" : ""}`,
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

  /** Waits for an element with this name (and namespace, if given). */
  async element(name: string, xmlns?: string, timeout?: number): Promise<XmlElement> {
    const r = await this.next(
      (x) => x.kind === "element" && x.el.name === name && (xmlns === undefined || x.el.attrs.xmlns === xmlns),
      timeout,
    );
    return (r as { el: XmlElement }).el;
  }

  /** Waits for the server's stream header. */
  async streamOpen(timeout?: number): Promise<Record<string, string>> {
    const r = await this.next((x) => x.kind === "open", timeout);
    return (r as { attrs: Record<string, string> }).attrs;
  }

  /** Waits for a `<stream:error/>` and returns its condition. */
  async streamError(timeout?: number): Promise<string> {
    const el = await this.element("stream:error", undefined, timeout);
    return el.elements().find((c) => c.attrs.xmlns === NS.streamErrors && c.name !== "text")?.name ?? "(none)";
  }

  /** Upgrades the connection with TLS (after `<proceed/>`). */
  async startTls(servername?: string): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const secure: TLSSocket = tlsConnect({ socket: plain, rejectUnauthorized: false, servername });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.socket = secure;
    this.parser = this.makeParser();
    this.wire(secure);
  }

  /** Expects nothing matching to arrive within `ms`. Throws if something does. */
  async nothing(ms = 300, pred: (r: Received) => boolean = (r) => r.kind === "element"): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.received.find(pred);
    if (hit) throw new Error(`expected nothing, got ${describe(hit)}`);
  }

  /** Restarts our side of the stream (after SASL success). */
  resetParser(): void {
    this.parser = this.makeParser();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wire(socket: Socket): void {
    socket.on("data", (chunk: Buffer) => this.parser.write(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.isDisconnected = true;
      this.resolveDisconnected();
      this.wake();
    });
  }

  private push(r: Received): void {
    this.received.push(r);
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private makeParser(): XmlStreamParser {
    return new XmlStreamParser(
      {
        onStreamStart: (_name, attrs) => this.push({ kind: "open", attrs }),
        onStanza: (el) => this.push({ kind: "element", el }),
        onStreamEnd: () => this.push({ kind: "close" }),
        onError: (err) => this.push({ kind: "parse-error", condition: err.condition }),
      },
      { maxStanzaBytes: 10 * 1024 * 1024, maxDepth: 100 },
    );
  }
}

function describe(r: Received): string {
  if (r.kind === "element") return r.el.toString().slice(0, 300);
  if (r.kind === "open") return `<stream ${JSON.stringify(r.attrs)}>`;
  return r.kind;
}

export interface LoginOptions {
  resource?: string;
  /** SASL mechanism; PLAIN by default (fast), or SCRAM-SHA-1/256/512 (optionally -PLUS). */
  mechanism?: string;
  /** Use direct TLS (XEP-0368) instead of STARTTLS. */
  directTls?: boolean;
  /** Send initial presence after binding (default false). */
  presence?: boolean | XmlElement;
  /** Request the roster after binding (makes the resource "interested"). */
  roster?: boolean;
}

/** A logged-in client: a RawConnection plus the bound JID and conveniences for stanzas. */
export class TestClient {
  constructor(
    readonly conn: RawConnection,
    readonly jid: string,
  ) {}

  get bare(): string {
    return this.jid.split("/")[0] as string;
  }

  send(el: XmlElement | string): void {
    if (typeof el === "string") this.conn.write(el);
    else this.conn.send(el);
  }

  /** Waits for a stanza matching the predicate. */
  async expect(pred: (el: XmlElement) => boolean, timeout?: number): Promise<XmlElement> {
    const r = await this.conn.next((x) => x.kind === "element" && pred(x.el), timeout);
    return (r as { el: XmlElement }).el;
  }

  /** Waits for a stanza of this kind (`message`, `presence`, `iq`) and optional type. */
  expectStanza(name: string, type?: string, timeout?: number): Promise<XmlElement> {
    return this.expect((el) => el.name === name && (type === undefined || (el.attrs.type ?? "") === type), timeout);
  }

  /** Sends an iq (adding an id) and returns the matching result or error. */
  async iq(el: XmlElement, timeout?: number): Promise<XmlElement> {
    const id = el.attrs.id ?? `t-${randomBytes(4).toString("hex")}`;
    el.attrs.id = id;
    this.conn.send(el);
    return this.expect(
      (s) => s.name === "iq" && s.attrs.id === id && (s.attrs.type === "result" || s.attrs.type === "error"),
      timeout,
    );
  }

  /** Asserts that no stanza (matching pred) arrives within ms. */
  nothing(ms = 300, pred: (el: XmlElement) => boolean = () => true): Promise<void> {
    return this.conn.nothing(ms, (r) => r.kind === "element" && pred(r.el));
  }

  /** Closes the stream politely and waits for the server to close. */
  async close(): Promise<void> {
    if (this.conn.closed) return;
    this.conn.write("</stream:stream>");
    await Promise.race([this.conn.disconnected, new Promise((r) => setTimeout(r, 1000))]);
    this.conn.destroy();
  }
}

/** Logs in over a real connection: STARTTLS (or direct TLS), SASL, resource binding. */
export async function connectClient(
  ts: TestServer,
  jid: string,
  password: string,
  opts: LoginOptions = {},
): Promise<TestClient> {
  const [local, domain] = jid.split("@") as [string, string];
  const conn = await RawConnection.open(opts.directTls ? ts.tlsPort : ts.c2sPort, { tls: opts.directTls });
  conn.openStream(domain);
  await conn.streamOpen();
  if (!opts.directTls) {
    await conn.element("stream:features");
    conn.send(xml("starttls", { xmlns: NS.tls }));
    await conn.element("proceed", NS.tls);
    await conn.startTls(domain);
    conn.openStream(domain);
    await conn.streamOpen();
  }
  await conn.element("stream:features");
  await authenticate(conn, local, password, opts.mechanism ?? "PLAIN");
  conn.resetParser();
  conn.openStream(domain);
  await conn.streamOpen();
  await conn.element("stream:features");
  conn.send(
    xml(
      "iq",
      { type: "set", id: "bind-1" },
      xml("bind", { xmlns: NS.bind }, opts.resource ? xml("resource", null, opts.resource) : undefined),
    ),
  );
  const bound = await conn.element("iq");
  const full = bound.getChild("bind", NS.bind)?.getChildText("jid");
  if (bound.attrs.type !== "result" || !full) throw new Error(`bind failed: ${bound}`);
  const client = new TestClient(conn, full);
  if (opts.roster) {
    await client.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
  }
  if (opts.presence) client.send(opts.presence === true ? xml("presence") : opts.presence);
  return client;
}

/** Runs one SASL exchange; throws with the failure condition if the server refuses. */
export async function authenticate(conn: RawConnection, user: string, password: string, mechanism: string) {
  const sasl = (name: string, text?: string, attrs: Record<string, string> = {}) =>
    conn.send(xml(name, { xmlns: NS.sasl, ...attrs }, text));
  const outcome = () =>
    conn.next(
      (r) =>
        r.kind === "element" && r.el.attrs.xmlns === NS.sasl && ["success", "failure", "challenge"].includes(r.el.name),
    );
  if (mechanism === "PLAIN") {
    sasl("auth", Buffer.from(`\0${user}\0${password}`).toString("base64"), { mechanism });
  } else {
    const m = /^SCRAM-(SHA-1|SHA-256|SHA-512)(-PLUS)?$/.exec(mechanism);
    if (!m) throw new Error(`unsupported test mechanism ${mechanism}`);
    let cb: { type: string; data: Buffer } | null = null;
    if (m[2]) {
      const tls = conn.socket as TLSSocket;
      cb = { type: "tls-exporter", data: tls.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)) };
    }
    const scram = new ScramClient(m[1] as "SHA-256", user, password, cb);
    sasl("auth", Buffer.from(scram.first()).toString("base64"), { mechanism });
    const challenge = await outcome();
    const ch = (challenge as { el: XmlElement }).el;
    if (ch.name !== "challenge") throw new Error(`SASL failed: ${ch}`);
    sasl("response", Buffer.from(scram.final(Buffer.from(ch.text(), "base64").toString())).toString("base64"));
    const fin = ((await outcome()) as { el: XmlElement }).el;
    if (fin.name !== "success") throw new Error(`SASL failed: ${fin.firstElement()?.name ?? fin}`);
    if (!scram.verify(Buffer.from(fin.text(), "base64").toString())) throw new Error("server signature mismatch");
    return;
  }
  const r = ((await outcome()) as { el: XmlElement }).el;
  if (r.name !== "success") throw new Error(`SASL failed: ${r.firstElement()?.name ?? r}`);
}
