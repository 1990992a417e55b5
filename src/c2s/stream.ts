import { randomBytes } from "node:crypto";
import type { AuthThrottle } from "../core/auth-throttle.ts";
import { StanzaError, StreamError } from "../core/errors.ts";
import type { Host } from "../core/host.ts";
import type { Server } from "../core/server.ts";
import type { C2sSession, CloseInfo, FilterHandle, StanzaFilter, StreamControl } from "../core/session.ts";
import { generateResource } from "../core/sessions.ts";
import { errorReplyFrom, iqResult, isStanzaKind, streamErrorElement } from "../core/stanza.ts";
import { type Jid, JidError, makeJid, tryParseJid } from "../jid/jid.ts";
import type { Logger } from "../log.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { FilterChain } from "./filter-chain.ts";
import { SaslNegotiation } from "./sasl-negotiation.ts";
import type { StreamTransport, StreamTransportEvents } from "./transport.ts";

/**
 * The connection state machine of RFC 6120 (jackal-style):
 *
 *   connected → (TLS) → authenticating → authenticated → bound → closed
 *
 * Elements are processed strictly one at a time, in arrival order, even when a handler awaits storage,
 * so replies never overtake each other.
 *
 * A bound session can outlive its connection: when the connection is lost and a module (XEP-0198 stream
 * management) keeps it, the session stays bound and "hibernates" until that module ends it or hands it the
 * connection of a newer stream that resumed it (`takeOver`). The session object, and so every module's state
 * about it, stays the same; only the transport underneath is swapped.
 */
export type C2sState = "connected" | "authenticated" | "bound" | "closed";

const MAX_QUEUE = 256;

let nextId = 0;

export class C2sStream implements C2sSession, StreamControl, StreamTransportEvents {
  readonly kind = "c2s";
  readonly id = `c2s-${(++nextId).toString(36)}`;
  readonly connectedAt = Date.now();
  state: C2sState = "connected";

  private hostObj: Host | null = null;
  private jidValue: Jid | null = null;
  private usernameValue = "";
  presence: XmlElement | null = null;
  priority = 0;
  interested = false;

  /** The live connection; a resumption (XEP-0198) replaces it. */
  private conn: StreamTransport;
  /** False while hibernating: bound, but with no connection to write to. */
  private connected = true;
  /**
   * Where the events of the transport this object was attached to go: this object, or the session that this
   * connection resumed. Events of a transport that is no longer its session's connection are ignored.
   */
  private sink: C2sStream = this;
  private hibernation: (() => boolean) | null = null;
  private readonly outFilters = new FilterChain((s) => this.write(s));
  private readonly inFilters = new FilterChain(() => {});

  private headerSent = false;
  private sasl: SaslNegotiation | null = null;
  private readonly queue: XmlElement[] = [];
  private processing = false;
  /** The element loop while it runs (it never rejects); see `whenIdle`. */
  private draining: Promise<void> = Promise.resolve();
  private paused = false;
  private authTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private closeError: StreamError | null = null;
  private cleanClose = false;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((r) => {
    this.resolveFinished = r;
  });
  private readonly log: Logger;

  constructor(
    private readonly server: Server,
    private readonly ownConn: StreamTransport,
    private readonly throttle: AuthThrottle,
  ) {
    this.conn = ownConn;
    this.log = server.log.child({ c2s: this.id });
    server.connections.add(this);
    this.authTimer = setTimeout(
      () => this.close(new StreamError("connection-timeout", "Authentication took too long")),
      server.config.c2s.auth_timeout * 1000,
    );
    this.authTimer.unref();
  }

  // ---- C2sSession ---------------------------------------------------------------------------------

  get jid(): Jid {
    if (!this.jidValue) throw new Error("session is not bound");
    return this.jidValue;
  }
  get host(): string {
    return this.hostObj?.name ?? "";
  }
  get username(): string {
    return this.usernameValue;
  }
  get resource(): string {
    return this.jidValue?.resource ?? "";
  }
  get transport() {
    return this.conn.kind;
  }
  get secure(): boolean {
    return this.conn.secure;
  }
  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get closed(): boolean {
    return this.state === "closed";
  }

  send(stanza: XmlElement): void {
    if (this.state === "closed") return;
    if (isStanzaKind(stanza.name)) this.server.metrics.stanzasOut[stanza.name]++;
    if (this.outFilters.empty) this.write(stanza);
    else this.outFilters.push(stanza);
  }

  private write(el: XmlElement): void {
    if (this.connected && this.state !== "closed") this.conn.send(el);
  }

  /**
   * Closes the stream, sending a stream error first if given (RFC 6120 §4.9.1.1). A hibernating session just
   * ends. An unanswered ping (`connection-timeout`) counts as a lost connection, which may hibernate.
   */
  close(error?: StreamError): void {
    if (this.state === "closed" || this.closeError) return;
    if (error?.condition === "connection-timeout" && this.state === "bound" && this.connected) {
      const conn = this.conn;
      if (this.tryHibernate()) {
        // Tell the peer in case it still listens; it can resume on a new connection.
        conn.send(streamErrorElement(error));
        conn.closeStream();
        return;
      }
    }
    if (error) {
      this.closeError = error;
      if (error.condition !== "system-shutdown" && error.condition !== "conflict") {
        this.log.debug({ condition: error.condition, text: error.text }, "closing with stream error");
      }
      if (this.connected) {
        // RFC 6120 §4.9.1.2: an error during stream setup still needs our stream header first.
        if (!this.headerSent) this.sendHeader(this.server.config.hosts[0] ?? "localhost");
        this.conn.send(streamErrorElement(error));
      }
    }
    if (this.connected) this.conn.closeStream();
    this.endSession();
  }

  whenIdle(): Promise<void> {
    return this.draining;
  }

  // ---- StreamControl (stream management, CSI) -----------------------------------------------------

  get stream(): StreamControl {
    return this;
  }
  get bound(): boolean {
    return this.state === "bound";
  }
  get hibernating(): boolean {
    return this.state === "bound" && !this.connected;
  }

  sendNonza(el: XmlElement): void {
    if (this.connected && this.state !== "closed") this.conn.send(el);
  }

  addOutputFilter(filter: StanzaFilter, priority = 0): FilterHandle {
    return this.outFilters.add(filter, priority);
  }

  addInputFilter(filter: StanzaFilter, priority = 0): () => void {
    return this.inFilters.add(filter, priority).remove;
  }

  setHibernation(keep: (() => boolean) | null): void {
    this.hibernation = keep;
  }

  takeOver(session: C2sSession): void {
    const other = session instanceof C2sStream ? session : null;
    if (!other || other === this || other.state !== "authenticated" || this.state !== "bound") {
      throw new Error("takeOver needs an authenticated, unbound stream and a bound session");
    }
    if (other.hostObj !== this.hostObj || other.usernameValue !== this.usernameValue) {
      throw new Error("takeOver across accounts");
    }
    const previous = this.connected ? this.conn : null;
    this.conn = other.conn;
    this.connected = true;
    // The new connection's events now belong to this session; its own stream object retires quietly.
    other.sink = this;
    other.state = "closed";
    other.server.connections.delete(other);
    other.resolveFinished();
    this.paused = other.paused;
    this.queue.push(...other.queue.splice(0));
    if (previous) {
      // XEP-0198 §5: the old stream of a resumed session is terminated.
      previous.send(streamErrorElement(new StreamError("conflict", "Replaced by a resumed stream")));
      previous.closeStream();
    }
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
    this.armIdleTimer();
    this.log.debug({ jid: this.jidValue?.toString(), transport: this.conn.kind }, "resumed on a new connection");
    queueMicrotask(() => {
      if (!this.processing && this.queue.length > 0 && this.state !== "closed") this.draining = this.drain();
    });
  }

  /** Lets the hibernation hook keep the session; true if it did. */
  private tryHibernate(): boolean {
    const keep = this.hibernation;
    if (!keep || this.state !== "bound") return false;
    this.connected = false;
    if (!keep()) {
      this.connected = true;
      return false;
    }
    for (const t of [this.idleTimer, this.pingTimer]) if (t) clearTimeout(t);
    this.idleTimer = null;
    this.pingTimer = null;
    this.log.debug({ jid: this.jidValue?.toString() }, "connection lost, hibernating");
    return true;
  }

  // ---- transport events ---------------------------------------------------------------------------
  // The listener attaches this object to one transport (`ownConn`). Its events go to `sink`, which after a
  // resumption is the session that was resumed; a transport that stopped being its session's connection (the
  // old one of a resumed session) is not listened to any more.

  private target(): C2sStream | null {
    return this.sink.conn === this.ownConn ? this.sink : null;
  }

  onActivity(): void {
    this.guard(() => this.target()?.activity());
  }
  onStreamOpen(attrs: Record<string, string>): void {
    this.guard(() => this.target()?.streamOpened(attrs));
  }
  onElement(el: XmlElement): void {
    this.guard(() => this.target()?.element(el));
  }
  onStreamClose(): void {
    this.guard(() => this.target()?.streamClosed());
  }
  onTransportError(err: StreamError): void {
    this.guard(() => this.target()?.close(err));
  }
  onDisconnect(): void {
    this.guard(() => this.target()?.connectionLost());
  }

  /**
   * Transport events arrive in socket callbacks, where an exception (a bug, e.g. in a module's stream feature)
   * would be uncaught and take the whole process down. It ends this connection instead (RFC 6120 §4.9.3.8).
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const session = this.target() ?? this;
      session.log.error({ err }, "stream failed");
      try {
        session.close(new StreamError("internal-server-error"));
      } catch {
        this.ownConn.destroy();
      }
    }
  }

  private activity(): void {
    if (this.state !== "bound") return;
    if (this.pingTimer) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
    }
    this.armIdleTimer();
  }

  private streamOpened(attrs: Record<string, string>): void {
    const to = attrs.to ?? "";
    const host = this.server.userHost(tryParseJid(to)?.toString() ?? to);
    this.sendHeader(host?.name ?? this.server.config.hosts[0] ?? "localhost");
    // RFC 6120 §4.8: namespaces are checked before anything else.
    if (attrs.xmlns !== NS.client) {
      this.close(new StreamError("invalid-namespace", "The default namespace must be jabber:client"));
      return;
    }
    if (!host) {
      this.close(new StreamError("host-unknown", `This server does not serve ${to || "(no 'to' given)"}`));
      return;
    }
    if (this.hostObj && host !== this.hostObj) {
      // A restarted stream must stay on the host it authenticated against.
      this.close(new StreamError("host-unknown", "The host changed during stream restart"));
      return;
    }
    // RFC 6120 §4.7.5: we speak version 1.0 only.
    const major = Number.parseInt((attrs.version ?? "0").split(".")[0] ?? "0", 10);
    if (!(major >= 1)) {
      this.close(new StreamError("unsupported-version", "XMPP version 1.0 is required"));
      return;
    }
    this.hostObj = host;
    this.sendFeatures();
  }

  private element(el: XmlElement): void {
    if (this.state === "closed" || this.closeError) return;
    if (!this.headerSent) {
      this.close(new StreamError("not-well-formed", "Stream header expected"));
      return;
    }
    this.queue.push(el);
    if (this.queue.length > MAX_QUEUE && !this.paused) {
      this.paused = true;
      this.conn.pause();
    }
    if (!this.processing) this.draining = this.drain();
  }

  private streamClosed(): void {
    this.cleanClose = true;
    // RFC 6120 §4.4: answer the closing tag with ours; the transport then ends the connection.
    this.conn.closeStream();
    this.endSession();
  }

  /** The connection is gone without a closed stream: hibernate if a module keeps the session, else end it. */
  private connectionLost(): void {
    if (this.state === "closed" || !this.connected) return;
    if (this.tryHibernate()) return;
    this.endSession();
  }

  /**
   * Ends the session as soon as the stream is closing (either side) or the connection is gone, so the
   * router stops handing it stanzas that could no longer be delivered: once unbound, messages for it take
   * the RFC 6121 paths (other resources, offline storage). Runs once.
   */
  private endSession(): void {
    if (this.state === "closed") return;
    const wasBound = this.state === "bound";
    this.state = "closed";
    this.queue.length = 0;
    for (const t of [this.authTimer, this.idleTimer, this.pingTimer]) if (t) clearTimeout(t);
    this.server.connections.delete(this);
    if (!wasBound || !this.hostObj) {
      this.resolveFinished();
      return;
    }
    this.server.sessions.unbind(this);
    const info: CloseInfo = { error: this.closeError, clean: this.cleanClose };
    this.hostObj.events
      .fire("c2s.session.closed", { session: this, info })
      .catch((err) => this.log.error({ err }, "session close handler failed"))
      .finally(() => this.resolveFinished());
  }

  // ---- processing ---------------------------------------------------------------------------------

  private async drain(): Promise<void> {
    this.processing = true;
    try {
      for (let el = this.queue.shift(); el; el = this.queue.shift()) {
        try {
          await this.handle(el);
        } catch (err) {
          if (err instanceof StreamError) {
            this.close(err);
          } else {
            this.log.error({ err, element: el.toString() }, "failed to process element");
            this.close(new StreamError("internal-server-error"));
          }
        }
        // Also stops once a resumption moved this connection's elements to the resumed session.
        if (this.state === "closed" || this.closeError) return;
        if (this.paused && this.queue.length < MAX_QUEUE / 2) {
          this.paused = false;
          this.conn.resume();
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private async handle(el: XmlElement): Promise<void> {
    const ns = el.attrs.xmlns ?? NS.client;
    if (this.state === "connected") {
      if (ns === NS.tls && el.name === "starttls") return this.startTls();
      if (ns === NS.sasl) return this.handleSasl(el);
      if (ns === NS.client && el.name === "iq" && (await this.handlePreAuthIq(el))) return;
      throw new StreamError("not-authorized", "Authenticate first");
    }
    const isStanza = ns === NS.client && isStanzaKind(el.name);
    if (this.state === "authenticated") {
      if (isStanza && el.name === "iq" && el.getChild("bind", NS.bind)) return this.bind(el);
      if (!isStanza && (await this.handleStreamElement(el, ns))) return;
      throw new StreamError("not-authorized", "Bind a resource first");
    }
    if (isStanza) return this.processStanza(el);
    if (await this.handleStreamElement(el, ns)) return;
    throw new StreamError("unsupported-stanza-type", `<${el.name} xmlns='${ns}'/> is not understood`);
  }

  /**
   * An iq before authentication that a module answers (XEP-0077 registration), only where SASL is offered:
   * RFC 6120 §5.3.1 lets nothing but TLS happen before it when encryption is required.
   */
  private async handlePreAuthIq(iq: XmlElement): Promise<boolean> {
    if (!this.conn.secure && this.server.config.c2s.require_encryption) return false;
    const payload = iq.firstElement();
    const handler = payload && this.hostObj?.preAuthIq.get(payload.attrs.xmlns ?? "");
    if (!handler) return false;
    try {
      await handler(iq, this);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      const reply = errorReplyFrom(iq, err);
      if (reply) this.conn.send(reply);
    }
    return true;
  }

  /** Top-level elements owned by modules (stream management, CSI, ...). */
  private async handleStreamElement(el: XmlElement, ns: string): Promise<boolean> {
    const handler = this.hostObj?.streamElements.get(`${ns} ${el.name}`);
    if (!handler) return false;
    await handler(el, this);
    return true;
  }

  // ---- TLS and SASL -------------------------------------------------------------------------------

  private async startTls(): Promise<void> {
    if (!this.conn.canStartTls) {
      // RFC 6120 §5.4.2.2
      this.conn.send(xml("failure", { xmlns: NS.tls }));
      this.conn.closeStream();
      return;
    }
    this.conn.send(xml("proceed", { xmlns: NS.tls }));
    this.headerSent = false;
    this.sasl = null;
    try {
      await this.conn.startTls();
    } catch (err) {
      this.log.debug({ err }, "TLS handshake failed");
      this.conn.destroy();
    }
  }

  private async handleSasl(el: XmlElement): Promise<void> {
    if (!this.sasl) throw new StreamError("not-authorized", "SASL is not available on this stream");
    const outcome = await this.sasl.handle(el);
    if (outcome.kind === "failure") {
      this.server.metrics.authFailures++;
      if (outcome.tooMany) throw new StreamError("policy-violation", "Too many failed authentication attempts");
      return;
    }
    if (outcome.kind === "success") {
      this.server.metrics.authSuccesses++;
      this.usernameValue = outcome.username;
      this.state = "authenticated";
      this.sasl = null;
      if (this.authTimer) clearTimeout(this.authTimer);
      this.authTimer = null;
      // RFC 6120 §6.4.6: both sides start a fresh stream over the same connection.
      this.headerSent = false;
      this.conn.restartStream();
    }
  }

  // ---- resource binding (RFC 6120 §7) -------------------------------------------------------------

  private async bind(iq: XmlElement): Promise<void> {
    const host = this.hostObj as Host;
    const reply = (err: StanzaError) => {
      const r = errorReplyFrom(iq, err);
      if (r) this.conn.send(r);
    };
    if (iq.attrs.type !== "set") return reply(new StanzaError("modify", "bad-request", "Bind with type='set'"));
    const requested = iq.getChild("bind", NS.bind)?.getChildText("resource")?.trim() ?? "";
    let full: Jid;
    try {
      full = makeJid(this.usernameValue, host.name, requested || generateResource());
    } catch (err) {
      if (err instanceof JidError)
        return reply(new StanzaError("modify", "bad-request", `Invalid resource: ${err.message}`));
      throw err;
    }
    const previous = this.jidValue;
    this.jidValue = full;
    try {
      this.server.sessions.bind(this, full.bare, full.resource);
    } catch (err) {
      this.jidValue = previous;
      if (err instanceof StanzaError) return reply(err);
      throw err;
    }
    this.state = "bound";
    this.conn.send(
      xml(
        "iq",
        { type: "result", id: iq.attrs.id },
        xml("bind", { xmlns: NS.bind }, xml("jid", null, full.toString())),
      ),
    );
    this.armIdleTimer();
    this.log.debug({ jid: full.toString(), transport: this.conn.kind }, "bound");
    await host.events.fire("c2s.session.bound", { session: this });
  }

  // ---- stanzas ------------------------------------------------------------------------------------

  private async processStanza(received: XmlElement): Promise<void> {
    const stanza = this.inFilters.empty ? received : this.inFilters.run(received);
    if (!stanza) return;
    const host = this.hostObj as Host;
    const me = this.jid;
    // RFC 6120 §8.1.2.1: the server stamps the full JID; a client claiming another address is an error.
    const claimed = stanza.attrs.from;
    if (claimed !== undefined) {
      const c = tryParseJid(claimed);
      if (!c || (!c.equals(me) && !c.equals(me.bare))) {
        throw new StreamError("invalid-from", "The 'from' address does not match your JID");
      }
    }
    stanza.attrs.from = me.toString();
    const kind = stanza.name as "message" | "presence" | "iq";
    this.server.metrics.stanzasIn[kind]++;

    // RFC 6120 §8.2.3: iq needs an id and one of the four types.
    if (kind === "iq") {
      const type = stanza.attrs.type;
      if (!stanza.attrs.id || (type !== "get" && type !== "set" && type !== "result" && type !== "error")) {
        const r = errorReplyFrom(
          stanza,
          new StanzaError("modify", "bad-request", "An iq needs an id and a valid type"),
        );
        if (r) this.send(r);
        return;
      }
      // Legacy session establishment (RFC 3921 §3, kept optional by RFC 6121): a no-op.
      if (type === "set" && stanza.getChild("session", NS.session) && stanza.attrs.to === undefined) {
        this.send(iqResult(stanza));
        return;
      }
      if (type === "set" && stanza.getChild("bind", NS.bind)) {
        const r = errorReplyFrom(stanza, new StanzaError("cancel", "not-allowed", "A resource is already bound"));
        if (r) this.send(r);
        return;
      }
    }

    let to: Jid | null = null;
    if (stanza.attrs.to !== undefined) {
      to = tryParseJid(stanza.attrs.to);
      if (!to) {
        const r = errorReplyFrom(stanza, new StanzaError("modify", "jid-malformed", "Invalid 'to' address"));
        if (r) {
          delete r.attrs.from;
          this.send(r);
        }
        return;
      }
      stanza.attrs.to = to.toString();
    }

    if (await host.events.fire(`pre-${kind}`, { stanza, session: this, from: me, to })) return;

    if (!to) {
      // RFC 6120 §10.3: no 'to' means the account itself (message, iq); presence without 'to' is a
      // broadcast that the presence module handles in pre-presence.
      if (kind === "presence") return;
      stanza.attrs.to = me.bareString;
    }
    await this.server.router.route(stanza, this);
  }

  // ---- stream header and features -----------------------------------------------------------------

  private sendHeader(from: string): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.conn.openStream({
      from,
      id: randomBytes(12).toString("base64url"),
      version: "1.0",
      "xml:lang": "en",
    });
  }

  private sendFeatures(): void {
    const host = this.hostObj as Host;
    const features = xml("stream:features");
    const t = this.conn;
    if (this.state === "connected") {
      const requireTls = this.server.config.c2s.require_encryption;
      if (!t.secure && t.canStartTls) {
        features.append(xml("starttls", { xmlns: NS.tls }, requireTls ? xml("required") : undefined));
      }
      this.sasl ??= new SaslNegotiation({
        host: host.name,
        storage: this.server.storage,
        transport: t,
        requireEncryption: requireTls,
        allowPlain: this.server.config.auth.allow_plain,
        maxFailures: this.server.config.auth.max_failures_per_connection,
        scramIterations: this.server.config.auth.scram_iterations,
        throttle: this.throttle,
        send: (el) => t.send(el),
      });
      // RFC 6120 §5.3.1: when TLS is mandatory, offer nothing else before it (a client that tries SASL
      // anyway is told <encryption-required/>).
      if (t.secure || !requireTls) {
        features.append(...this.sasl.features());
        for (const f of host.streamFeatures) {
          if (f.stage === "pre-auth") features.append(f.element({ secure: t.secure, session: null }));
        }
      }
    } else {
      features.append(xml("bind", { xmlns: NS.bind }), xml("session", { xmlns: NS.session }, xml("optional")));
      for (const f of host.streamFeatures) {
        if (f.stage === "post-auth") features.append(f.element({ secure: t.secure, session: this }));
      }
    }
    t.send(features);
  }

  // ---- liveness (XEP-0199 server-to-client pings) ------------------------------------------------

  private armIdleTimer(): void {
    const { ping_interval } = this.server.config.c2s;
    if (ping_interval <= 0) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => this.pingClient(), ping_interval * 1000);
    this.idleTimer.unref();
  }

  private pingClient(): void {
    if (this.state !== "bound" || this.pingTimer) return;
    this.send(
      xml(
        "iq",
        { type: "get", id: `ping-${randomBytes(4).toString("hex")}`, from: this.host, to: this.jid.toString() },
        xml("ping", { xmlns: NS.ping }),
      ),
    );
    this.pingTimer = setTimeout(
      () => this.close(new StreamError("connection-timeout", "No answer to ping")),
      this.server.config.c2s.ping_timeout * 1000,
    );
    this.pingTimer.unref();
  }
}
