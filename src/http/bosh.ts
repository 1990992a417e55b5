import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { C2sStream } from "../c2s/stream.ts";
import type { AuthThrottle } from "../core/auth-throttle.ts";
import { StreamError } from "../core/errors.ts";
import type { Server } from "../core/server.ts";
import { streamErrorElement } from "../core/stanza.ts";
import { tryParseJid } from "../jid/jid.ts";
import { parseDocument } from "../xml/document.ts";
import type { XmlElement } from "../xml/element.ts";
import { XmlParseError } from "../xml/errors.ts";
import { NS } from "../xmpp/ns.ts";
import { BOSH_VERSION, BoshError, intAttr, NS_HTTPBIND, NS_XBOSH, terminateXml, xboshAttr } from "./bosh/body.ts";
import { type BoshParams, BoshSession, writeBody } from "./bosh/session.ts";
import { serializeStandalone } from "./framing.ts";
import type { HttpContext, HttpRoute } from "./routes.ts";

/** The BOSH endpoint's path (the name XEP-0156 discovery and most clients use). */
export const BOSH_PATH = "/http-bind";

/** Room for the `<body/>` wrapper around a stanza of the maximum size. */
const WRAPPER_ALLOWANCE = 1024;

/** What XEP-0124 §7.1 lets the client choose, capped by us: hold at most 1 (one long-poll at a time). */
const MAX_HOLD = 1;

/**
 * The `/http-bind` endpoint (XEP-0124 with XEP-0206): session creation, requests for existing sessions by sid,
 * and terminal errors. Sessions are BoshSession transports under the same C2sStream as TCP and WebSocket.
 */
export class BoshEndpoint {
  private readonly sessions = new Map<string, BoshSession>();
  private readonly maxBody: number;

  constructor(
    private readonly server: Server,
    private readonly throttle: AuthThrottle,
  ) {
    this.maxBody = server.config.c2s.stanza_size_limit + WRAPPER_ALLOWANCE;
  }

  /** Open BOSH sessions (authenticated or not). */
  get size(): number {
    return this.sessions.size;
  }

  route(): HttpRoute {
    return {
      path: BOSH_PATH,
      methods: ["GET", "POST"],
      cors: true,
      maxBodyBytes: this.maxBody,
      handler: (ctx) => this.handle(ctx),
    };
  }

  private async handle(ctx: HttpContext): Promise<void> {
    if (ctx.req.method !== "POST") {
      ctx.res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      ctx.res.end("XMPP over BOSH (XEP-0206): POST <body/> requests to this URL.\n");
      return;
    }
    const raw = await ctx.body();
    if (ctx.res.writableEnded) return;
    let body: XmlElement;
    try {
      const cfg = this.server.config.c2s;
      // The wrapper is one more level above the stanzas.
      body = parseDocument(raw, { maxStanzaBytes: this.maxBody, maxDepth: cfg.max_depth + 1 });
    } catch (err) {
      if (!(err instanceof XmlParseError)) throw err;
      return writeError(ctx.res, "bad-request", 400);
    }
    if (body.name !== "body" || body.attrs.xmlns !== NS_HTTPBIND) return writeError(ctx.res, "bad-request", 400);

    const sid = body.attrs.sid;
    if (sid === undefined) return this.create(body, ctx);
    const session = this.sessions.get(sid);
    // XEP-0124 §17.2: an unknown (or expired) sid is item-not-found.
    if (!session) return writeError(ctx.res, "item-not-found");
    try {
      session.handle(body, ctx.res, ctx.secure);
    } catch (err) {
      if (!(err instanceof BoshError)) throw err;
      writeError(ctx.res, err.condition);
      session.fail(err.condition);
    }
  }

  /** XEP-0124 §7.1 / XEP-0206 §4: a request without sid opens a session. */
  private create(body: XmlElement, ctx: HttpContext): void {
    const server = this.server;
    const rid = intAttr(body, "rid");
    if (rid === undefined || !Number.isSafeInteger(rid)) {
      writeError(ctx.res, "bad-request");
      return;
    }
    const to = body.attrs.to ?? "";
    const host = server.userHost(tryParseJid(to)?.toString() ?? to);
    if (!host) {
      writeError(ctx.res, "host-unknown");
      return;
    }
    if (server.isStopping || server.connections.size >= server.config.c2s.max_connections) {
      const err = new StreamError(server.isStopping ? "system-shutdown" : "resource-constraint");
      writeBody(ctx.res, terminateXml("remote-stream-error", [serializeStandalone(streamErrorElement(err))]));
      return;
    }

    const cfg = server.config.http;
    const requestedHold = intAttr(body, "hold") ?? 1;
    const requestedWait = intAttr(body, "wait") ?? cfg.bosh_max_wait;
    if (Number.isNaN(requestedHold) || Number.isNaN(requestedWait)) {
      writeError(ctx.res, "bad-request");
      return;
    }
    const hold = Math.min(requestedHold, MAX_HOLD);
    const params: BoshParams = {
      hold,
      wait: Math.max(1, Math.min(requestedWait, cfg.bosh_max_wait)),
      requests: hold + 1,
      inactivity: cfg.bosh_inactivity,
      polling: cfg.bosh_polling,
    };
    // The sid is the only credential of later requests: 128 random bits.
    const sid = randomBytes(16).toString("base64url");
    const version = xboshAttr(body, "version") ?? "0.9";
    const session = new BoshSession({
      sid,
      remoteAddress: ctx.clientAddress,
      secure: ctx.secure,
      params,
      creationAttrs: {
        ver: lowerVersion(body.attrs.ver ?? "1.6", BOSH_VERSION),
        from: host.name,
        // XEP-0124 §7.1: the link from the connection manager to the server is secure (it is in-process).
        secure: "true",
        "xmpp:version": "1.0",
        // XEP-0206 §5: we support xmpp:restart.
        "xmpp:restartlogic": "true",
        "xmlns:xmpp": NS_XBOSH,
      },
      streamAttrs: { to: host.name, "xml:lang": body.attrs["xml:lang"] ?? "en", version, xmlns: NS.client },
      log: server.log,
      onEnd: () => this.sessions.delete(sid),
    });
    this.sessions.set(sid, session);
    session.attach(new C2sStream(server, session, this.throttle));
    session.start(rid, ctx.res);
  }
}

/** A terminal binding error as the whole answer (XEP-0124 §17.2; HTTP 400 only for unparsable requests). */
function writeError(res: ServerResponse, condition: BoshError["condition"], status = 200): void {
  const xml = terminateXml(condition);
  if (status === 200) {
    writeBody(res, xml);
    return;
  }
  res.writeHead(status, { "Content-Type": "text/xml; charset=utf-8", "Content-Length": Buffer.byteLength(xml) });
  res.end(xml);
}

/** XEP-0124 §7.1: answer with the highest version we support that is not higher than the client's. */
function lowerVersion(client: string, ours: string): string {
  const parse = (v: string) => v.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const [cMajor = 0, cMinor = 0] = parse(client);
  const [oMajor = 0, oMinor = 0] = parse(ours);
  return cMajor < oMajor || (cMajor === oMajor && cMinor < oMinor) ? `${cMajor}.${cMinor}` : ours;
}
