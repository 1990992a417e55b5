import type { StreamError } from "../core/errors.ts";
import type { C2sTransportKind } from "../core/session.ts";
import type { XmlElement } from "../xml/element.ts";

/**
 * What a client stream needs from the bytes underneath it. TCP (with STARTTLS), direct TLS, WebSocket
 * and BOSH each implement this; the stream and everything above it never know which one they run on.
 * A transport only frames: it parses its input into stream events and writes elements in its framing.
 */
export interface StreamTransport {
  readonly kind: C2sTransportKind;
  readonly remoteAddress: string;
  /** The channel is encrypted (TLS directly or after STARTTLS, or HTTPS/WSS). */
  readonly secure: boolean;
  /** STARTTLS can be negotiated now (plain TCP with a certificate configured). */
  readonly canStartTls: boolean;
  /** Channel binding types available on this connection, best first (RFC 9266, RFC 5929). */
  readonly channelBindingTypes: string[];
  channelBinding(type: string): Buffer | null;

  /** Sends the response stream header (or the RFC 7395 `<open/>`). */
  openStream(attrs: Record<string, string>): void;
  /** Sends one top-level element (stanza, feature, SASL or stream error element). */
  send(el: XmlElement): void;
  /** Sends the stream close and ends the connection once the peer closes or a grace period passes. */
  closeStream(): void;
  /** Drops the connection at once. */
  destroy(): void;
  /** Upgrades to TLS (after `<proceed/>` was sent). The next stream header arrives over TLS. */
  startTls(): Promise<void>;
  /** Forgets the parser state: the client opens a new stream next (after SASL success, RFC 6120 §6.4.6). */
  restartStream(): void;
  /** Flow control for clients that send faster than their stanzas are processed. */
  pause(): void;
  resume(): void;
}

/** What a transport reports to the stream above it. */
export interface StreamTransportEvents {
  onStreamOpen(attrs: Record<string, string>): void;
  onElement(el: XmlElement): void;
  onStreamClose(): void;
  /** Malformed or forbidden input: the stream must end with this error. */
  onTransportError(err: StreamError): void;
  /** The connection is gone (closed by either side). Called exactly once. */
  onDisconnect(): void;
  /** Any bytes arrived (resets idle timers). */
  onActivity(): void;
}
