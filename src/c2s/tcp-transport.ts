import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import { StreamError } from "../core/errors.ts";
import { serialize, type XmlElement } from "../xml/element.ts";
import { escapeAttr } from "../xml/escape.ts";
import { type XmlLimits, XmlStreamParser } from "../xml/parser.ts";
import { NS } from "../xmpp/ns.ts";
import { tlsChannelBinding, tlsChannelBindingTypes } from "./channel-binding.ts";
import type { StreamTransport, StreamTransportEvents } from "./transport.ts";

export interface TcpTransportOptions {
  limits: XmlLimits;
  /** Present when STARTTLS may be offered on a plain connection. */
  tls: { context: SecureContext; serverEndPoint: Buffer | null } | null;
  /** For direct TLS sockets: the tls-server-end-point hash of our certificate. */
  serverEndPoint?: Buffer | null;
  /** Default namespace of the stream (jabber:client or jabber:component:accept). */
  namespace: string;
}

/** Grace period for the peer to close its side after we sent `</stream:stream>` (RFC 6120 §4.4). */
const CLOSE_GRACE_MS = 5000;

/**
 * An XMPP stream over TCP: RFC 6120 framing (one long XML document per direction), optional STARTTLS
 * upgrade, or TLS from the first byte (XEP-0368) when handed a TLSSocket.
 */
export class TcpTransport implements StreamTransport {
  readonly kind = "tcp" as const;
  readonly remoteAddress: string;
  private socket: Socket;
  private parser: XmlStreamParser;
  private events: StreamTransportEvents | null = null;
  private serverEndPoint: Buffer | null;
  private ending = false;
  private gone = false;

  constructor(
    socket: Socket,
    private readonly opts: TcpTransportOptions,
  ) {
    this.socket = socket;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.serverEndPoint = opts.serverEndPoint ?? null;
    this.parser = this.makeParser();
    socket.setNoDelay(true);
    this.wire(socket);
  }

  /** Attaches the stream above; must be called before data flows. */
  attach(events: StreamTransportEvents): void {
    this.events = events;
  }

  get secure(): boolean {
    return this.socket instanceof TLSSocket && this.socket.encrypted === true;
  }

  get canStartTls(): boolean {
    return !this.secure && this.opts.tls !== null;
  }

  get channelBindingTypes(): string[] {
    return this.socket instanceof TLSSocket ? tlsChannelBindingTypes(this.socket, this.serverEndPoint) : [];
  }

  channelBinding(type: string): Buffer | null {
    return this.socket instanceof TLSSocket ? tlsChannelBinding(this.socket, type, this.serverEndPoint) : null;
  }

  openStream(attrs: Record<string, string>): void {
    let header = `<?xml version='1.0'?><stream:stream xmlns='${this.opts.namespace}' xmlns:stream='${NS.stream}'`;
    for (const [k, v] of Object.entries(attrs)) header += ` ${k}='${escapeAttr(v)}'`;
    this.write(`${header}>`);
  }

  send(el: XmlElement): void {
    this.write(serialize(el));
  }

  closeStream(): void {
    if (this.ending || this.gone) return;
    this.ending = true;
    this.parser.stop();
    this.socket.end("</stream:stream>");
    setTimeout(() => this.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async startTls(): Promise<void> {
    const tls = this.opts.tls;
    if (!tls) throw new Error("STARTTLS is not available");
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    this.parser.stop();
    const secure = new TLSSocket(plain, { isServer: true, secureContext: tls.context });
    this.serverEndPoint = tls.serverEndPoint;
    this.socket = secure;
    this.parser = this.makeParser();
    this.wire(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once("secure", resolve);
      secure.once("error", reject);
      secure.once("close", () => reject(new Error("closed during TLS handshake")));
    });
  }

  restartStream(): void {
    this.parser.reset();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private write(data: string): void {
    if (this.gone || this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(data);
  }

  private wire(socket: Socket): void {
    socket.on("data", (chunk: Buffer) => {
      this.events?.onActivity();
      this.parser.write(chunk);
    });
    socket.on("error", () => {
      // Resets and TLS alerts end in "close"; nothing to report per connection.
    });
    socket.on("close", () => {
      if (this.gone) return;
      this.gone = true;
      this.parser.stop();
      this.events?.onDisconnect();
    });
  }

  private makeParser(): XmlStreamParser {
    return new XmlStreamParser(
      {
        onStreamStart: (name, attrs) => {
          const colon = name.indexOf(":");
          const prefix = colon >= 0 ? name.slice(0, colon) : "";
          const local = colon >= 0 ? name.slice(colon + 1) : name;
          const streamNs = prefix ? attrs[`xmlns:${prefix}`] : attrs.xmlns;
          if (local !== "stream" || streamNs !== NS.stream) {
            this.events?.onTransportError(new StreamError("invalid-namespace", "Expected a stream header"));
            return;
          }
          // Stanzas inherit the default namespace of the stream element (RFC 6120 §4.8.2).
          const ns = prefix ? (attrs.xmlns ?? "") : "";
          this.events?.onStreamOpen({ ...attrs, xmlns: ns });
        },
        onStanza: (el) => this.events?.onElement(el),
        onStreamEnd: () => this.events?.onStreamClose(),
        onError: (err) => this.events?.onTransportError(new StreamError(err.condition, err.message)),
      },
      this.opts.limits,
    );
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so throttling and logs see one form per client. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return "unknown";
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}
