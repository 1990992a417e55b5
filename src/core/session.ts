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
