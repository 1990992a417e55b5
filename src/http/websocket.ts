import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { type WebSocket, WebSocketServer } from "ws";
import { tlsChannelBinding, tlsChannelBindingTypes } from "../c2s/channel-binding.ts";
import { C2sStream } from "../c2s/stream.ts";
import type { StreamTransport, StreamTransportEvents } from "../c2s/transport.ts";
import type { AuthThrottle } from "../core/auth-throttle.ts";
import { StreamError } from "../core/errors.ts";
import type { Server } from "../core/server.ts";
import { parseDocument } from "../xml/document.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { XmlParseError } from "../xml/errors.ts";
import type { XmlLimits } from "../xml/parser.ts";
import { NS } from "../xmpp/ns.ts";
import { normalizeIncoming, serializeStandalone } from "./framing.ts";
import type { HttpRequestInfo, UpgradeRoute } from "./routes.ts";

/** The WebSocket endpoint's path (the name XEP-0156 discovery and most clients use). */
export const WEBSOCKET_PATH = "/xmpp-websocket";

/** Time the client gets to answer our `<close/>` before the connection is dropped (RFC 7395 §3.6). */
const CLOSE_GRACE_MS = 5000;

const CLOSE_FRAME = serializeStandalone(xml("close", { xmlns: NS.framing }));

/**
 * XMPP over WebSocket (RFC 7395): one XML element per text frame, `<open/>` and `<close/>` in the framing
 * namespace instead of the stream root. Everything above the framing is the same C2sStream TCP uses.
 */
export class WebSocketTransport implements StreamTransport {
  readonly kind = "websocket" as const;
  readonly canStartTls = false;
  private events: StreamTransportEvents | null = null;
  private ending = false;
  /** The client sent `<close/>`. */
  private peerClosed = false;
  private gone = false;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    /** The TLS socket under a direct wss connection (channel binding), null otherwise. */
    private readonly tls: { socket: TLSSocket; serverEndPoint: Buffer | null } | null,
    private readonly limits: XmlLimits,
  ) {
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on("error", () => {
      // Protocol errors (oversized frame, bad UTF-8) are followed by "close".
    });
    ws.on("close", () => {
      if (this.gone) return;
      this.gone = true;
      this.events?.onDisconnect();
    });
  }

  attach(events: StreamTransportEvents): void {
    this.events = events;
  }

  get channelBindingTypes(): string[] {
    return this.tls ? tlsChannelBindingTypes(this.tls.socket, this.tls.serverEndPoint) : [];
  }

  channelBinding(type: string): Buffer | null {
    return this.tls ? tlsChannelBinding(this.tls.socket, type, this.tls.serverEndPoint) : null;
  }

  /** RFC 7395 §3.4: the response `<open/>` carries what a stream header would. */
  openStream(attrs: Record<string, string>): void {
    this.write(serializeStandalone(xml("open", { xmlns: NS.framing, ...attrs })));
  }

  send(el: XmlElement): void {
    this.write(serializeStandalone(el));
  }

  /**
   * RFC 7395 §3.6: send `<close/>`. If the client closed first, the stream is done and we close the WebSocket
   * (the server closes first, RFC 6455 §7.1.1); otherwise we wait for the client's `<close/>`, a little.
   */
  closeStream(): void {
    if (this.ending || this.gone) return;
    this.ending = true;
    this.write(CLOSE_FRAME);
    if (this.peerClosed) {
      this.ws.close(1000);
      return;
    }
    setTimeout(() => this.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error("STARTTLS is not available over WebSocket"));
  }

  restartStream(): void {
    // Nothing to reset: every frame is parsed on its own; the client's next frame is a new <open/>.
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  private write(data: string): void {
    if (this.gone || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data);
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    const events = this.events;
    if (!events || this.gone) return;
    events.onActivity();
    if (isBinary) {
      // RFC 7395 §3.2: text frames only.
      events.onTransportError(new StreamError("bad-format", "Binary frames are not allowed"));
      return;
    }
    // COMPAT: some clients send whitespace keepalives, which RFC 7395 §3.4 replaced by WebSocket pings.
    if (isBlank(data)) return;
    let el: XmlElement;
    try {
      el = parseDocument(data, this.limits);
    } catch (err) {
      if (!(err instanceof XmlParseError)) throw err;
      events.onTransportError(new StreamError(err.condition, err.message));
      return;
    }
    if (el.name === "open" || el.name === "close") {
      if (el.attrs.xmlns !== NS.framing) {
        events.onTransportError(new StreamError("invalid-namespace", `<${el.name}/> must be in ${NS.framing}`));
      } else if (el.name === "open") {
        const { xmlns: _, ...attrs } = el.attrs;
        // Stanzas in frames are qualified by jabber:client (RFC 7395 §3.3.3), the stream's content namespace.
        events.onStreamOpen({ ...attrs, xmlns: NS.client });
      } else if (this.ending) {
        // The client answered our <close/>: the closing handshake is complete.
        this.ws.close(1000);
      } else {
        this.peerClosed = true;
        events.onStreamClose();
      }
      return;
    }
    events.onElement(normalizeIncoming(el));
  }
}

function isBlank(data: Buffer): boolean {
  for (const b of data) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  return true;
}

export interface WebSocketEndpointOptions {
  server: Server;
  throttle: AuthThrottle;
  /** tls-server-end-point hash of our certificate, for SCRAM-PLUS over wss. */
  serverEndPoint: Buffer | null;
}

/** The `/xmpp-websocket` upgrade route. Returns the route and a function that closes the WebSocket server. */
export function webSocketEndpoint(opts: WebSocketEndpointOptions): { route: UpgradeRoute; close(): void } {
  const { server, throttle } = opts;
  const cfg = server.config.c2s;
  const limits: XmlLimits = { maxStanzaBytes: cfg.stanza_size_limit, maxDepth: cfg.max_depth };
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    // One frame is one stanza: the stanza limit is the frame limit (ws closes with 1009 past it).
    maxPayload: cfg.stanza_size_limit,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has("xmpp") ? "xmpp" : false),
  });

  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer, info: HttpRequestInfo) => {
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    // RFC 7395 §3.1: the client must ask for the "xmpp" subprotocol.
    if (!offered.includes("xmpp")) {
      rejectUpgrade(socket, 400, "Bad Request", "the 'xmpp' WebSocket subprotocol is required (RFC 7395)");
      return;
    }
    if (server.isStopping || server.connections.size >= cfg.max_connections) {
      rejectUpgrade(socket, 503, "Service Unavailable", "not accepting connections now");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Channel binding only when our TLS reaches the client itself; through a proxy it would bind the proxy's.
      const direct = req.socket instanceof TLSSocket && !info.proxied;
      const tls = direct ? { socket: req.socket as TLSSocket, serverEndPoint: opts.serverEndPoint } : null;
      const transport = new WebSocketTransport(ws, info.clientAddress, info.secure, tls, limits);
      transport.attach(new C2sStream(server, transport, throttle));
    });
  };
  return { route: { path: WEBSOCKET_PATH, handler }, close: () => wss.close() };
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, text: string): void {
  socket.on("error", () => {});
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
