import { XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import type { StanzaError, StanzaErrorCondition, StanzaErrorType, StreamError } from "./errors.ts";

/** Stanza kinds of RFC 6120 §8. */
export type StanzaKind = "message" | "presence" | "iq";

export function isStanzaKind(name: string): name is StanzaKind {
  return name === "message" || name === "presence" || name === "iq";
}

/** A result reply to an iq: to/from swapped, same id, optional payload. */
export function iqResult(iq: XmlElement, payload?: XmlElement | null): XmlElement {
  return xml("iq", { type: "result", id: iq.attrs.id, to: iq.attrs.from, from: iq.attrs.to }, payload ?? undefined);
}

/** Builds an RFC 6120 §8.3 error element. */
export function stanzaErrorElement(
  type: StanzaErrorType,
  condition: StanzaErrorCondition,
  text?: string,
  by?: string,
): XmlElement {
  return xml(
    "error",
    { type, by },
    xml(condition, { xmlns: NS.stanzaErrors }),
    text ? xml("text", { xmlns: NS.stanzaErrors, "xml:lang": "en" }, text) : undefined,
  );
}

/**
 * An error reply to a stanza (RFC 6120 §8.3.1): same kind and id, addresses swapped, type "error".
 * Returns null for stanzas that must never be answered with an error (type "error", iq "result").
 */
export function errorReply(
  stanza: XmlElement,
  type: StanzaErrorType,
  condition: StanzaErrorCondition,
  text?: string,
): XmlElement | null {
  const t = stanza.attrs.type;
  if (t === "error" || (stanza.name === "iq" && t === "result")) return null;
  const reply = xml(stanza.name, { type: "error", id: stanza.attrs.id, to: stanza.attrs.from, from: stanza.attrs.to });
  // RFC 6120 §8.3.1: the original payload MAY be included; we include it for messages so the sender's
  // client can show which message failed, but not for iq (whose payload can be large, e.g. vCards).
  if (stanza.name === "message") {
    const body = stanza.getChild("body");
    if (body) reply.append(body.clone());
  }
  reply.append(stanzaErrorElement(type, condition, text));
  return reply;
}

export function errorReplyFrom(stanza: XmlElement, err: StanzaError): XmlElement | null {
  return errorReply(stanza, err.type, err.condition, err.text);
}

/** The `<stream:error>` element for a stream error (RFC 6120 §4.9). */
export function streamErrorElement(err: StreamError): XmlElement {
  return xml(
    "stream:error",
    null,
    xml(err.condition, { xmlns: NS.streamErrors }),
    err.text ? xml("text", { xmlns: NS.streamErrors, "xml:lang": "en" }, err.text) : undefined,
    err.app,
  );
}

/** XEP-0203 delayed-delivery stamp. */
export function delayElement(from: string, when: Date, reason?: string): XmlElement {
  return xml("delay", { xmlns: NS.delay, from, stamp: when.toISOString().replace(/\.\d{3}Z$/, "Z") }, reason);
}

export { XmlElement };
