import type { XmlElement } from "../xml/element.ts";

/** RFC 6120 §4.9.3 stream error conditions. */
export type StreamErrorCondition =
  | "bad-format"
  | "bad-namespace-prefix"
  | "conflict"
  | "connection-timeout"
  | "host-gone"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  | "invalid-from"
  | "invalid-namespace"
  | "invalid-xml"
  | "not-authorized"
  | "not-well-formed"
  | "policy-violation"
  | "remote-connection-failed"
  | "reset"
  | "resource-constraint"
  | "restricted-xml"
  | "see-other-host"
  | "system-shutdown"
  | "undefined-condition"
  | "unsupported-encoding"
  | "unsupported-feature"
  | "unsupported-stanza-type"
  | "unsupported-version";

/** A fatal stream-level error: the stream is closed after sending it. */
export class StreamError extends Error {
  constructor(
    readonly condition: StreamErrorCondition,
    readonly text?: string,
    /** An application-specific condition element (RFC 6120 §4.9.4), e.g. XEP-0198's `<handled-count-too-high/>`. */
    readonly app?: XmlElement,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = "StreamError";
  }
}

/** RFC 6120 §8.3.2 error types. */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** RFC 6120 §8.3.3 stanza error conditions. */
export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "gone"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "redirect"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "subscription-required"
  | "undefined-condition"
  | "unexpected-request";

/**
 * Thrown by handlers to answer a stanza with an error. The router turns it into an error reply
 * (never for stanzas of type "error" or iq "result", RFC 6120 §8.3.1).
 */
export class StanzaError extends Error {
  constructor(
    readonly type: StanzaErrorType,
    readonly condition: StanzaErrorCondition,
    readonly text?: string,
  ) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = "StanzaError";
  }
}

/** Shorthands for the most common errors. */
export const errors = {
  badRequest: (text?: string) => new StanzaError("modify", "bad-request", text),
  forbidden: (text?: string) => new StanzaError("auth", "forbidden", text),
  notAllowed: (text?: string) => new StanzaError("cancel", "not-allowed", text),
  itemNotFound: (text?: string) => new StanzaError("cancel", "item-not-found", text),
  serviceUnavailable: (text?: string) => new StanzaError("cancel", "service-unavailable", text),
  featureNotImplemented: (text?: string) => new StanzaError("cancel", "feature-not-implemented", text),
  internal: (text?: string) => new StanzaError("cancel", "internal-server-error", text),
  jidMalformed: (text?: string) => new StanzaError("modify", "jid-malformed", text),
  notAcceptable: (text?: string) => new StanzaError("modify", "not-acceptable", text),
  resourceConstraint: (text?: string) => new StanzaError("wait", "resource-constraint", text),
};
