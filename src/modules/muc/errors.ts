/** Error replies the room builds itself (presence errors carry the MUC extension back, XEP-0045 §7.2). */
import type { StanzaError } from "../../core/errors.ts";
import { errorReplyFrom } from "../../core/stanza.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { MUC_NS } from "./ns.ts";

/** The error reply to a join or nick change presence, with `<x xmlns='…/muc'/>` as in §7.2.6-§7.2.11. */
export function presenceError(stanza: XmlElement, err: StanzaError): XmlElement | null {
  const reply = errorReplyFrom(stanza, err);
  if (!reply) return null;
  reply.children.unshift(xml("x", { xmlns: MUC_NS.muc }));
  return reply;
}

/**
 * Error conditions in a bounce from an occupant's side that mean the occupant is gone (its session or server
 * cannot be reached). XEP-0045 asks services to remove occupants on delivery-related errors; status 333 says
 * that is why they left.
 */
const GONE_CONDITIONS = new Set([
  "gone",
  "item-not-found",
  "recipient-unavailable",
  "redirect",
  "remote-server-not-found",
  "remote-server-timeout",
  "service-unavailable",
]);

export function meansOccupantGone(stanza: XmlElement): boolean {
  const error = stanza.getChild("error");
  if (!error) return false;
  return error.elements().some((c) => GONE_CONDITIONS.has(c.name));
}
