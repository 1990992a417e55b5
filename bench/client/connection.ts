import net from "node:net";
import { StringDecoder } from "node:string_decoder";
import tls from "node:tls";
import { nowUs } from "../lib/clock.ts";
import { SCRAM_MECHANISMS, ScramClient } from "./scram.ts";
import { childText, escapeXml, localName, parseStartTag, StanzaSplitter, type StartTag } from "./stanza-splitter.ts";

/** How the client secures the stream: STARTTLS (RFC 6120 §5), or plain TCP (only for servers that allow it). */
export type TlsMode = "starttls" | "none";

/** Which SASL mechanism to use; `auto` picks the strongest offered SCRAM, then PLAIN. */
export type SaslChoice = "auto" | "PLAIN" | "SCRAM-SHA-1" | "SCRAM-SHA-256";

/** Everything needed to log one account in. */
export interface ConnectionOptions {
  host: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  resource: string;
  tls: TlsMode;
  sasl: SaslChoice;
  /** Request the roster before initial presence (RFC 6121 §2.1.3), as real clients do. */
  rosterGet: boolean;
  /** Send initial presence and wait for the server to reflect it to this resource (RFC 6121 §4.2.2). */
  presence: boolean;
  /** Optional `<status/>` text for the initial presence (a function is called when the presence is sent). */
  presenceStatus?: string | (() => string) | undefined;
  timeoutMs: number;
  /** Stanzas the state machine does not consume (messages, presence, iq results of the scenario). */
  onStanza?: (xml: string, tag: StartTag, client: XmppClient) => void;
  /** The connection closed after login without `close()` being called. */
  onLost?: (client: XmppClient, reason: string) => void;
}

/** Microsecond timestamps of the login steps, relative to the TCP connect call. */
export interface LoginTimings {
  tcp: number;
  tls: number;
  auth: number;
  bound: number;
  online: number;
}

/** Login failure with a short machine-readable kind (`timeout:auth`, `stream-error:policy-violation`, ...). */
export class LoginError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

enum State {
  Connecting = 0,
  WaitFeatures = 1,
  WaitProceed = 2,
  TlsHandshake = 3,
  Auth = 4,
  Bind = 5,
  Session = 6,
  Roster = 7,
  PresenceEcho = 8,
  Online = 9,
  Closing = 10,
  Closed = 11,
}

const STATE_NAMES = [
  "connect",
  "features",
  "starttls",
  "tls-handshake",
  "auth",
  "bind",
  "session",
  "roster",
  "presence-echo",
  "online",
  "closing",
  "closed",
];

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

/**
 * A minimal XMPP client connection on a raw socket: stream header, features, STARTTLS, SASL (PLAIN, SCRAM-SHA-1,
 * SCRAM-SHA-256), resource binding, optional session, roster get and initial presence. Written for thousands of
 * instances per process: no DOM, one splitter per connection, stanzas handed over as strings.
 */
export class XmppClient {
  /** The bound full JID, once bound. */
  jid = "";
  /** Bare JID of the account. */
  readonly bare: string;
  readonly timings: LoginTimings = { tcp: 0, tls: 0, auth: 0, bound: 0, online: 0 };
  /** Free slot for the scenario (user index, room, ...). */
  user = 0;
  /** The SASL mechanism used, once authentication started. */
  mechanism = "";

  private state = State.Connecting;
  private sock: net.Socket | tls.TLSSocket | undefined;
  private decoder = new StringDecoder("utf8");
  private readonly splitter: StanzaSplitter;
  private secure = false;
  private authenticated = false;
  private scram: ScramClient | undefined;
  /** When `login()` was called (µs, see lib/clock.ts). */
  startedUs = 0;
  /** When the initial presence was sent (µs), 0 before. */
  presenceSentUs = 0;
  private timer: NodeJS.Timeout | undefined;
  private resolveLogin: ((c: XmppClient) => void) | undefined;
  private rejectLogin: ((e: LoginError) => void) | undefined;
  private closeWaiter: (() => void) | undefined;
  private readonly onData = (chunk: Buffer): void => {
    try {
      this.splitter.push(this.decoder.write(chunk));
    } catch (err) {
      this.fail(`not-well-formed:${(err as Error).message}`);
    }
  };

  constructor(readonly opts: ConnectionOptions) {
    this.bare = `${opts.username}@${opts.domain}`;
    this.splitter = new StanzaSplitter({
      streamOpen: () => {},
      element: (xml) => this.onElement(xml),
      streamClose: () => this.onStreamClose(),
    });
  }

  /** Connects and logs in; resolves once online (after the presence echo when `presence` is set). */
  login(): Promise<XmppClient> {
    return new Promise((resolve, reject) => {
      this.resolveLogin = resolve;
      this.rejectLogin = reject;
      this.startedUs = nowUs();
      this.timer = setTimeout(() => this.fail(`timeout:${STATE_NAMES[this.state]}`), this.opts.timeoutMs);
      const sock = net.connect({ host: this.opts.host, port: this.opts.port });
      sock.setNoDelay(true);
      this.attach(sock);
      sock.once("connect", () => {
        this.timings.tcp = nowUs() - this.startedUs;
        this.openStream();
      });
    });
  }

  /** True once the login finished and the connection is still open. */
  get online(): boolean {
    return this.state === State.Online;
  }

  /** Writes raw XML; returns false when the socket buffer is full (the caller may apply back-pressure). */
  send(xml: string): boolean {
    if (this.sock === undefined || this.state >= State.Closing) return false;
    return this.sock.write(xml);
  }

  /** Bytes queued in the socket and not yet written to the kernel. */
  get pendingBytes(): number {
    return this.sock?.writableLength ?? 0;
  }

  /** Closes the stream politely (RFC 6120 §4.4) and waits for the server to close its side (at most `waitMs`). */
  close(waitMs = 3000): Promise<void> {
    if (this.state >= State.Closing || this.sock === undefined) return Promise.resolve();
    this.state = State.Closing;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.destroy();
        done();
      }, waitMs);
      this.closeWaiter = done;
      this.sock!.write("</stream:stream>");
    });
  }

  /** Drops the TCP connection without a closing handshake. */
  destroy(): void {
    this.sock?.destroy();
    this.finishClose();
  }

  private attach(sock: net.Socket | tls.TLSSocket): void {
    this.sock = sock;
    sock.on("data", this.onData);
    sock.on("error", (err: NodeJS.ErrnoException) => this.fail(`socket:${err.code ?? err.message}`));
    sock.on("close", () => {
      if (this.sock !== sock) return; // the plain socket closing under TLS is not the end
      if (this.state === State.Closing || this.state === State.Closed) this.finishClose();
      else this.fail(`closed:${STATE_NAMES[this.state]}`);
    });
  }

  private openStream(): void {
    this.state = State.WaitFeatures;
    this.send(
      `<?xml version='1.0'?><stream:stream to='${this.opts.domain}' version='1.0' xml:lang='en' ` +
        `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    );
  }

  private onStreamClose(): void {
    if (this.state === State.Closing) {
      this.sock?.end();
      this.finishClose();
    } else {
      this.fail(`stream-closed:${STATE_NAMES[this.state]}`);
    }
  }

  private finishClose(): void {
    const wasOnline = this.state === State.Online;
    this.state = State.Closed;
    if (this.closeWaiter) {
      const w = this.closeWaiter;
      this.closeWaiter = undefined;
      w();
    }
    if (wasOnline) this.opts.onLost?.(this, "closed");
  }

  private fail(kind: string): void {
    if (this.state === State.Closed) return;
    const wasOnline = this.state === State.Online;
    const wasClosing = this.state === State.Closing;
    this.state = State.Closed;
    clearTimeout(this.timer);
    this.sock?.destroy();
    if (this.rejectLogin) {
      const reject = this.rejectLogin;
      this.rejectLogin = undefined;
      this.resolveLogin = undefined;
      reject(new LoginError(kind));
    } else if (wasOnline) {
      this.opts.onLost?.(this, kind);
    }
    if (wasClosing) this.finishClose();
  }

  private onElement(xml: string): void {
    const tag = parseStartTag(xml);
    const name = localName(tag.name);
    if (name === "error" && tag.name.startsWith("stream:")) {
      const m = /<([a-z-]+)[^>]*xmlns=['"]urn:ietf:params:xml:ns:xmpp-streams['"]/.exec(xml);
      this.fail(`stream-error:${m?.[1] ?? "unknown"}`);
      return;
    }
    switch (this.state) {
      case State.WaitFeatures:
        if (name === "features") this.onFeatures(xml);
        return;
      case State.WaitProceed:
        if (name === "proceed") this.startTls();
        else if (name === "failure") this.fail("starttls-failure");
        return;
      case State.Auth:
        this.onSasl(name, xml);
        return;
      case State.Online:
      case State.Closing:
        this.dispatch(xml, tag);
        return;
      default:
        break;
    }
    if (name === "iq") {
      const id = tag.attrs.id;
      if (this.state === State.Bind && id === "bind1") {
        this.onBound(xml, tag);
        return;
      }
      if (this.state === State.Session && id === "sess1") {
        this.afterSession(tag);
        return;
      }
      if (this.state === State.Roster && id === "roster1") {
        this.afterRoster(tag);
        return;
      }
    }
    if (this.state === State.PresenceEcho && name === "presence" && tag.attrs.from === this.jid) {
      if (tag.attrs.type === undefined) {
        this.goOnline();
        return;
      }
      if (tag.attrs.type === "error") {
        this.fail("presence-error");
        return;
      }
    }
    this.dispatch(xml, tag);
  }

  private onFeatures(xml: string): void {
    if (!this.secure && this.opts.tls === "starttls") {
      if (!/<starttls[\s/>]/.test(xml)) {
        this.fail("no-starttls-offered");
        return;
      }
      this.state = State.WaitProceed;
      this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      return;
    }
    if (!this.authenticated) {
      this.startAuth(xml);
      return;
    }
    if (!/<bind[\s/>]/.test(xml)) {
      this.fail("no-bind-offered");
      return;
    }
    this.state = State.Bind;
    this.send(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>` +
        `${escapeXml(this.opts.resource)}</resource></bind></iq>`,
    );
    // RFC 6121 §1.4 / RFC 3921 §3: a server that still lists <session/> without <optional/> needs it.
    this.sessionNeeded = /<session[\s/>]/.test(xml) && !/<optional\s*\/>/.test(xml);
  }

  private sessionNeeded = false;

  private startTls(): void {
    this.state = State.TlsHandshake;
    const plain = this.sock as net.Socket;
    plain.removeListener("data", this.onData);
    const secure = tls.connect({ socket: plain, servername: this.opts.domain, rejectUnauthorized: false });
    this.splitter.reset();
    this.decoder = new StringDecoder("utf8");
    this.attach(secure);
    secure.once("secureConnect", () => {
      this.secure = true;
      this.timings.tls = nowUs() - this.startedUs;
      this.openStream();
    });
  }

  private startAuth(features: string): void {
    const offered = new Set<string>();
    for (const m of features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)) offered.add(m[1]!.trim());
    let mech: string | undefined;
    if (this.opts.sasl === "auto") {
      mech = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"].find((m) => offered.has(m));
    } else if (offered.has(this.opts.sasl)) {
      mech = this.opts.sasl;
    }
    if (mech === undefined) {
      this.fail(`no-sasl-mechanism:${[...offered].join("/")}`);
      return;
    }
    this.state = State.Auth;
    this.mechanism = mech;
    let initial: string;
    const hash = SCRAM_MECHANISMS[mech];
    if (hash !== undefined) {
      this.scram = new ScramClient(hash, this.opts.username, this.opts.password);
      initial = this.scram.first();
    } else {
      initial = `\0${this.opts.username}\0${this.opts.password}`;
    }
    this.send(`<auth xmlns='${NS_SASL}' mechanism='${mech}'>${Buffer.from(initial).toString("base64")}</auth>`);
  }

  private onSasl(name: string, xml: string): void {
    const payload = () => Buffer.from((/>([^<]*)</.exec(xml)?.[1] ?? "").trim(), "base64").toString("utf8");
    if (name === "challenge") {
      if (this.scram === undefined) {
        this.fail("sasl-unexpected-challenge");
        return;
      }
      let response: string;
      try {
        response = this.scram.final(payload());
      } catch (err) {
        this.fail(`sasl-bad-challenge:${(err as Error).message}`);
        return;
      }
      this.send(`<response xmlns='${NS_SASL}'>${Buffer.from(response).toString("base64")}</response>`);
    } else if (name === "success") {
      // RFC 6120 §6.3.10: SCRAM's server-final-message rides in <success/>; check the server signature.
      if (this.scram !== undefined && !this.scram.verify(payload())) {
        this.fail("sasl-bad-server-signature");
        return;
      }
      this.authenticated = true;
      this.timings.auth = nowUs() - this.startedUs;
      this.splitter.reset();
      this.openStream();
    } else if (name === "failure") {
      const m = /<([a-z-]+)[\s/>]/.exec(xml.slice(xml.indexOf(">") + 1));
      this.fail(`sasl-failure:${m?.[1] ?? "unknown"}`);
    }
  }

  private onBound(xml: string, tag: StartTag): void {
    if (tag.attrs.type !== "result") {
      this.fail("bind-error");
      return;
    }
    this.jid = childText(xml, "jid") ?? "";
    this.timings.bound = nowUs() - this.startedUs;
    if (this.sessionNeeded) {
      this.state = State.Session;
      this.send("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    } else {
      this.afterSession(undefined);
    }
  }

  private afterSession(tag: StartTag | undefined): void {
    if (tag !== undefined && tag.attrs.type !== "result") {
      this.fail("session-error");
      return;
    }
    if (this.opts.rosterGet) {
      this.state = State.Roster;
      this.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
    } else {
      this.afterRoster(undefined);
    }
  }

  private afterRoster(tag: StartTag | undefined): void {
    if (tag !== undefined && tag.attrs.type !== "result") {
      this.fail("roster-error");
      return;
    }
    if (!this.opts.presence) {
      this.goOnline();
      return;
    }
    this.state = State.PresenceEcho;
    const st = this.opts.presenceStatus;
    const status = typeof st === "function" ? st() : st;
    this.send(status === undefined ? "<presence/>" : `<presence><status>${escapeXml(status)}</status></presence>`);
    this.presenceSentUs = nowUs();
  }

  private goOnline(): void {
    this.state = State.Online;
    clearTimeout(this.timer);
    this.timings.online = nowUs() - this.startedUs;
    const resolve = this.resolveLogin;
    this.resolveLogin = undefined;
    this.rejectLogin = undefined;
    resolve?.(this);
  }

  /** Answers what a client must answer, then hands the stanza to the scenario. */
  private dispatch(xml: string, tag: StartTag): void {
    if (localName(tag.name) === "iq") {
      const type = tag.attrs.type;
      if (type === "get" || type === "set") {
        const to = tag.attrs.from ? ` to='${escapeXml(tag.attrs.from)}'` : "";
        const id = escapeXml(tag.attrs.id ?? "");
        // RFC 6121 §2.1.6 (roster push) and XEP-0199 (ping) get a result; anything else is not implemented here.
        if (xml.includes("jabber:iq:roster") || xml.includes("urn:xmpp:ping")) {
          this.send(`<iq type='result' id='${id}'${to}/>`);
        } else {
          this.send(
            `<iq type='error' id='${id}'${to}><error type='cancel'><service-unavailable ` +
              `xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
          );
        }
        return;
      }
    }
    this.opts.onStanza?.(xml, tag, this);
  }
}
