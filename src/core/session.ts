import type { Jid } from "../jid/jid.ts";
import type { XmlElement } from "../xml/element.ts";
import type { StreamError } from "./errors.ts";

/** Anything the router can hand stanzas to: a client session, a component, a remote server link. */
export interface Session {
  readonly id: string;
  readonly kind: "c2s" | "component" | "s2s";
  /** Queues a stanza for the peer. Never throws; a closed session drops it (see `closed`). */
  send(stanza: XmlElement): void;
  /** Closes the stream, with a stream error if given. Idempotent. */
  close(error?: StreamError): void;
  readonly closed: boolean;
  /** Resolves once the session is fully gone and its close handlers (presence, last seen) have run. */
  readonly finished: Promise<void>;
  /**
   * Resolves once nothing the peer sent is being processed any more: the handlers of the stanza under way (and
   * their storage writes) are done. Never rejects. Shutdown waits for it before it closes storage.
   */
  whenIdle(): Promise<void>;
}

/** How a client reached us. */
export type C2sTransportKind = "tcp" | "websocket" | "bosh";

/**
 * A bound client session, the object handler modules see. Per-module state is kept by the modules
 * themselves (e.g. in a WeakMap keyed by the session), never as ad-hoc fields here.
 */
export interface C2sSession extends Session {
  readonly kind: "c2s";
  /** Full JID; valid once bound. */
  readonly jid: Jid;
  readonly host: string;
  readonly username: string;
  readonly resource: string;
  readonly transport: C2sTransportKind;
  readonly secure: boolean;
  readonly remoteAddress: string;
  /** Monotonic connection start, ms since the epoch. */
  readonly connectedAt: number;
  /** Last available presence broadcast by the client (RFC 6121 §4.2), or null while unavailable. */
  presence: XmlElement | null;
  /** Priority of the last available presence (RFC 6121 §4.7.2.3), -128..127; 0 when none. */
  priority: number;
  /** The client asked for its roster: it is an "interested resource" (RFC 6121 §2.1.6). */
  interested: boolean;
  /** Stream-level hooks for the modules that manage the stream itself (stream management, CSI). */
  readonly stream: StreamControl;
}

/**
 * Looks at a stanza on its way to or from the client. Returns the stanza to pass on (the same one or a
 * replacement), or null to take it out of the flow (the filter then owns it, e.g. to pass it on later).
 */
export type StanzaFilter = (stanza: XmlElement) => XmlElement | null;

/** A registered output filter. */
export interface FilterHandle {
  remove(): void;
  /** Sends a stanza on through the filters below this one (lower priority) to the client. */
  passOn(stanza: XmlElement): void;
}

/**
 * What modules that sit between a session and its connection may do: XEP-0198 stream management (acks,
 * hibernation, resumption on a new connection) and XEP-0352 client state indication (holding stanzas back).
 * Ordinary modules never need this; see docs/architecture.md "Session filters and hibernation".
 */
export interface StreamControl {
  /** A resource is bound (stanzas flow). */
  readonly bound: boolean;
  /** The session is bound but has no connection: it lost it and waits to be resumed (XEP-0198). */
  readonly hibernating: boolean;
  /** Writes a non-stanza element (e.g. `<a xmlns='urn:xmpp:sm:3'/>`) to the client now, bypassing filters. */
  sendNonza(el: XmlElement): void;
  /**
   * Filters every stanza the session sends. Higher priorities run first; the lowest one is closest to the
   * wire (stream management counts there what really goes out).
   */
  addOutputFilter(filter: StanzaFilter, priority?: number): FilterHandle;
  /** Filters every stanza the client sends, before it is processed. Returns a remover. */
  addInputFilter(filter: StanzaFilter, priority?: number): () => void;
  /**
   * Asked when the connection is lost while bound without the client closing the stream (network failure,
   * unanswered ping). Returning true keeps the session bound and "present" without a connection
   * (`hibernating`); whoever returned true later ends it with `close()` or gives it a connection with
   * `takeOver()`. Null: the session ends with its connection (the default).
   */
  setHibernation(keep: (() => boolean) | null): void;
  /**
   * Moves the connection of `other` (an authenticated, unbound session of the same account on this host) to
   * this bound session, which keeps its JID, presence and module state; `other` stops existing as a session.
   * A connection this session still had is closed with a `conflict` stream error. Elements the client already
   * sent on the new connection are processed by this session, starting after the caller's synchronous code
   * (so it can first write e.g. `<resumed/>`).
   */
  takeOver(other: C2sSession): void;
}

export function isC2s(s: Session | null | undefined): s is C2sSession {
  return s?.kind === "c2s";
}

/** Why and how a session ended, given to the `c2s.session.closed` event. */
export interface CloseInfo {
  error: StreamError | null;
  /** The client closed the stream cleanly (it sent `</stream:stream>`). */
  clean: boolean;
}
