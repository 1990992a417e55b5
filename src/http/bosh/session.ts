import type { ServerResponse } from "node:http";
import type { StreamTransport, StreamTransportEvents } from "../../c2s/transport.ts";
import type { Logger } from "../../log.ts";
import type { XmlElement } from "../../xml/element.ts";
import { normalizeIncoming, serializeStandalone } from "../framing.ts";
import { type BoshCondition, BoshError, bodyXml, intAttr, terminateXml, xboshAttr } from "./body.ts";

/** Negotiated session parameters (XEP-0124 §7.1), all times in seconds. */
export interface BoshParams {
  /** Requests held at once: 0 (polling) or 1. */
  hold: number;
  /** Longest a request is held before an empty answer. */
  wait: number;
  /** Requests the client may have open at once: hold + 1. */
  requests: number;
  /** How long the session lives with no request open. */
  inactivity: number;
  /** Shortest interval between empty polls. */
  polling: number;
}

export interface BoshSessionOptions {
  sid: string;
  remoteAddress: string;
  secure: boolean;
  params: BoshParams;
  /** Attributes of the session creation response besides sid and the params (from, ver, xmpp:version...). */
  creationAttrs: Record<string, string>;
  /** What a stream restart reports to the stream above (to, xml:lang, version). */
  streamAttrs: Record<string, string>;
  log: Logger;
  /** Called once when the session is gone (the registry forgets it). */
  onEnd(): void;
}

/** A request we may still answer. */
interface Pending {
  rid: number;
  res: ServerResponse;
  answered: boolean;
  timer: NodeJS.Timeout | null;
}

/** A request that arrived ahead of a missing rid and waits for it (XEP-0124 §14.2). */
interface Early extends Pending {
  body: XmlElement;
}

/** How long a closing session waits for a request to carry the final `type='terminate'` answer. */
const CLOSE_GRACE_MS = 5000;

/**
 * One BOSH session (XEP-0124, XEP-0206): the HTTP request/response pairs of one client, turned into the
 * ordered element stream a C2sStream reads and writes. It only frames, like the TCP and WebSocket transports.
 *
 * - Requests are processed strictly in `rid` order; one arriving ahead of a gap waits for it (§14.2).
 * - At most `hold` processed requests are kept open; output goes to the oldest, and each held request is
 *   answered empty after `wait` seconds (§7.1).
 * - The last `requests` responses are kept, so a client whose connection broke can resend a request and get
 *   the same answer (§14.3).
 * - With no request open for `inactivity` seconds the session ends as if the client's TCP connection dropped.
 */
export class BoshSession implements StreamTransport {
  readonly kind = "bosh" as const;
  readonly canStartTls = false;
  /** Requests may arrive over different TCP/TLS connections: there is no single channel to bind to. */
  readonly channelBindingTypes: string[] = [];
  readonly sid: string;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly params: BoshParams;

  private events: StreamTransportEvents | null = null;
  private lastRid = -1;
  private readonly held: Pending[] = [];
  private readonly early = new Map<number, Early>();
  /** Response bodies by rid, for resends (§14.3). */
  private readonly sent = new Map<number, string>();
  /** Serialized elements waiting for a request to carry them. */
  private out: string[] = [];
  private creationAttrs: Record<string, string> | null;
  private flushQueued = false;
  private inactivityTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** The stream above closed: the next answer is the final `type='terminate'`. */
  private closing = false;
  private streamErrorQueued = false;
  private ended = false;
  private paused = false;
  /** Arrival time of the previous new request if it was empty, else 0 (overactivity, §12). */
  private prevEmptyAt = 0;
  private prevAnswerEmpty = false;

  constructor(private readonly opts: BoshSessionOptions) {
    this.sid = opts.sid;
    this.remoteAddress = opts.remoteAddress;
    this.secure = opts.secure;
    this.params = opts.params;
    this.creationAttrs = opts.creationAttrs;
  }

  attach(events: StreamTransportEvents): void {
    this.events = events;
  }

  /** Handles the session creation request (§7.1): the stream opens and the answer carries the features. */
  start(rid: number, res: ServerResponse): void {
    this.lastRid = rid;
    this.hold({ rid, res, answered: false, timer: null });
    this.events?.onStreamOpen(this.opts.streamAttrs);
    // Answer at once with whatever the stream said (features, or an error), not after `wait`.
    this.flush(true);
  }

  /** Handles a request for this session. Throws BoshError for terminal conditions (the caller ends the session). */
  handle(body: XmlElement, res: ServerResponse, requestSecure: boolean): void {
    if (this.ended) throw new BoshError("item-not-found", "session is gone");
    // A session opened over a secure channel never continues over a plain one, where its data would leak.
    if (this.secure && !requestSecure) throw new BoshError("policy-violation", "insecure request for a secure session");
    const rid = intAttr(body, "rid");
    if (rid === undefined || !Number.isSafeInteger(rid)) throw new BoshError("bad-request", "missing or invalid rid");
    this.stopInactivityTimer();

    if (rid <= this.lastRid) {
      // §14.3: a resend after a broken connection gets the original answer.
      const cached = this.sent.get(rid);
      if (cached !== undefined) {
        writeBody(res, cached);
        this.armInactivityTimer();
        return;
      }
      const open = this.held.find((p) => p.rid === rid);
      if (open) {
        this.replaceResponse(open, res);
        return;
      }
      throw new BoshError("item-not-found", `rid ${rid} was already answered and is no longer buffered`);
    }
    // §14.2: a rid beyond the window means requests were lost for good.
    if (rid > this.lastRid + this.params.requests) {
      throw new BoshError("item-not-found", `rid ${rid} is outside the window after ${this.lastRid}`);
    }
    const waiting = this.early.get(rid);
    if (waiting) {
      this.replaceResponse(waiting, res);
      this.armInactivityTimer();
      return;
    }
    // §11: more simultaneous requests than `requests` is overactivity.
    if (this.held.length + this.early.size + 1 > this.params.requests) {
      throw new BoshError("policy-violation", `more than ${this.params.requests} simultaneous requests`);
    }
    const early: Early = { rid, res, answered: false, timer: null, body };
    this.early.set(rid, early);
    res.on("close", () => this.onResponseClosed(early));
    this.processReady();
    // A request stuck behind a gap does not keep the session alive: if the gap never fills, it expires.
    this.armInactivityTimer();
  }

  /** Ends the session with a terminal condition, answering every open request with it. */
  fail(condition: BoshCondition): void {
    if (this.ended) return;
    this.opts.log.debug({ sid: this.sid, condition }, "BOSH session terminated");
    this.terminateAll(terminateXml(condition));
    this.end();
  }

  // ---- StreamTransport ---------------------------------------------------------------------------

  channelBinding(): Buffer | null {
    return null;
  }

  openStream(attrs: Record<string, string>): void {
    // XEP-0206 §5: there is no stream header; the creation response's attributes (authid...) stand for it.
    if (this.creationAttrs && attrs.id) this.creationAttrs.authid = attrs.id;
  }

  send(el: XmlElement): void {
    if (this.ended || this.closing) return;
    if (el.name === "stream:error") this.streamErrorQueued = true;
    this.out.push(serializeStandalone(el));
    this.scheduleFlush();
  }

  closeStream(): void {
    if (this.ended || this.closing) return;
    this.closing = true;
    this.scheduleFlush();
  }

  destroy(): void {
    this.fail("remote-stream-error");
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error("STARTTLS is not available over BOSH"));
  }

  restartStream(): void {
    // The client asks for the restart explicitly (xmpp:restart, XEP-0206 §5); nothing to reset here.
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.processReady();
  }

  // ---- request processing --------------------------------------------------------------------------

  /** Processes waiting requests while the next rid in sequence is there. */
  private processReady(): void {
    while (!this.paused && !this.ended) {
      const next = this.early.get(this.lastRid + 1);
      if (!next) return;
      this.early.delete(next.rid);
      try {
        this.process(next);
      } catch (err) {
        if (!(err instanceof BoshError)) throw err;
        writeBody(next.res, terminateXml(err.condition));
        next.answered = true;
        this.fail(err.condition);
        return;
      }
    }
  }

  private process(req: Early): void {
    const { body } = req;
    this.lastRid = req.rid;
    const events = this.events;
    if (!events) return;
    events.onActivity();
    if (this.closing) {
      this.hold(req);
      this.flush(true);
      return;
    }
    const terminate = body.attrs.type === "terminate";
    const restart = xboshAttr(body, "restart") === "true";
    const payload = body.elements();
    this.checkPolling(payload.length === 0 && !terminate && !restart);

    if (restart) {
      // XEP-0206 §5: a restart request carries no payload; the answer carries the new stream features.
      events.onStreamOpen(this.opts.streamAttrs);
    } else {
      for (const el of payload) {
        if (this.ended || this.closing) break;
        events.onElement(normalizeIncoming(el));
      }
    }
    this.hold(req);
    if (terminate && !this.closing) {
      // XEP-0124 §13: the client ends the session; the stream above answers with closeStream().
      events.onStreamClose();
    }
    if (this.ended) return;
    // Keep no more than `hold` requests: the oldest goes back now, with whatever output is ready.
    while (this.held.length > this.params.hold) this.answer(this.held.shift() as Pending);
    this.scheduleFlush();
  }

  /**
   * XEP-0124 §12: two empty requests in a row, less than `polling` seconds apart, while the earlier one is still
   * open (or, for polling sessions, was answered empty) mean the client polls too fast.
   */
  private checkPolling(empty: boolean): void {
    const now = Date.now();
    const tooSoon = empty && this.prevEmptyAt > 0 && now - this.prevEmptyAt < this.params.polling * 1000;
    this.prevEmptyAt = empty ? now : 0;
    if (!tooSoon) return;
    const overactive = this.params.hold === 0 ? this.prevAnswerEmpty : this.held.length >= this.params.requests - 1;
    if (overactive) throw new BoshError("policy-violation", `empty requests less than ${this.params.polling}s apart`);
  }

  private hold(req: Pending): void {
    if (connectionGone(req.res)) {
      // The client already gave up on this request: answer into the resend buffer only.
      this.answer(req);
      return;
    }
    req.timer = setTimeout(() => {
      const i = this.held.indexOf(req);
      if (i >= 0) this.answer(this.held.splice(i, 1)[0] as Pending);
    }, this.params.wait * 1000);
    req.timer.unref();
    this.held.push(req);
  }

  /** A client-side abort of an open request: answer it into the buffer, so a resend of its rid still works. */
  private onResponseClosed(req: Pending): void {
    if (req.answered || this.ended) return;
    const i = this.held.indexOf(req);
    if (i >= 0) {
      this.held.splice(i, 1);
      this.answer(req, false);
    }
  }

  /** The client retried a request that is still open: the newer connection gets the answer. */
  private replaceResponse(req: Pending, res: ServerResponse): void {
    const old = req.res;
    req.res = res;
    res.on("close", () => this.onResponseClosed(req));
    if (!old.writableEnded) writeBody(old, bodyXml({}));
  }

  // ---- output ------------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushQueued || this.ended) return;
    this.flushQueued = true;
    // Elements written in the same turn (an iq result and the pushes it caused) travel in one body.
    setImmediate(() => this.flush(false));
  }

  private flush(now: boolean): void {
    if (!now) this.flushQueued = false;
    if (this.ended) return;
    if (this.closing) {
      this.finishClosing();
      return;
    }
    if (this.out.length === 0) return;
    const req = this.held.shift();
    if (req) this.answer(req);
  }

  /** Answers a request with the queued output (or empty), keeping the body for resends. */
  private answer(req: Pending, withOutput = true): void {
    if (req.timer) clearTimeout(req.timer);
    req.answered = true;
    const payloads = withOutput ? this.out.splice(0) : [];
    let attrs: Record<string, string> = {};
    if (this.creationAttrs) {
      attrs = { sid: this.sid, ...paramAttrs(this.params), ...this.creationAttrs };
      this.creationAttrs = null;
    }
    const xml = bodyXml(attrs, payloads);
    this.prevAnswerEmpty = payloads.length === 0;
    this.remember(req.rid, xml);
    writeBody(req.res, xml);
    this.armInactivityTimer();
  }

  /** The stream above closed: the first open request carries the rest of the output and the terminate. */
  private finishClosing(): void {
    if (this.held.length === 0) {
      // Wait briefly for the client's next request to deliver the final answer on.
      this.closeTimer ??= setTimeout(() => this.end(), CLOSE_GRACE_MS);
      this.closeTimer.unref();
      return;
    }
    // XEP-0206 §7: a stream error ends the BOSH session with remote-stream-error, carrying the error.
    const xml = terminateXml(this.streamErrorQueued ? "remote-stream-error" : undefined, this.out.splice(0));
    this.terminateAll(xml);
    this.end();
  }

  private terminateAll(first: string): void {
    let xml = first;
    for (const req of [...this.held, ...this.early.values()]) {
      if (req.answered) continue;
      if (req.timer) clearTimeout(req.timer);
      req.answered = true;
      writeBody(req.res, xml);
      xml = terminateXml();
    }
    this.held.length = 0;
    this.early.clear();
  }

  private remember(rid: number, xml: string): void {
    this.sent.set(rid, xml);
    for (const old of this.sent.keys()) if (old <= this.lastRid - this.params.requests) this.sent.delete(old);
  }

  // ---- lifetime ------------------------------------------------------------------------------------------

  private armInactivityTimer(): void {
    if (this.ended || this.held.length > 0 || this.inactivityTimer) return;
    this.inactivityTimer = setTimeout(() => {
      this.opts.log.debug({ sid: this.sid }, "BOSH session inactive");
      this.end();
    }, this.params.inactivity * 1000);
    this.inactivityTimer.unref();
  }

  private stopInactivityTimer(): void {
    if (this.inactivityTimer) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = null;
  }

  /** The session is gone: like a dropped TCP connection for the stream above. Runs once. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopInactivityTimer();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.terminateAll(terminateXml());
    this.out = [];
    this.sent.clear();
    this.opts.onEnd();
    this.events?.onDisconnect();
  }
}

/** The negotiated parameters as creation response attributes. */
function paramAttrs(p: BoshParams): Record<string, string> {
  return {
    wait: String(p.wait),
    hold: String(p.hold),
    requests: String(p.requests),
    inactivity: String(p.inactivity),
    polling: String(p.polling),
  };
}

/** The client can no longer receive this response (it aborted the request, or the connection broke). */
function connectionGone(res: ServerResponse): boolean {
  return res.destroyed || res.socket?.destroyed === true;
}

/** Writes a body as the whole HTTP response, unless the client is no longer there to read it. */
export function writeBody(res: ServerResponse, xml: string): void {
  if (res.writableEnded || connectionGone(res)) return;
  res.writeHead(200, {
    "Content-Type": "text/xml; charset=utf-8",
    "Content-Length": Buffer.byteLength(xml),
    "Cache-Control": "no-store",
  });
  res.end(xml);
}
