/** Which messages go into a user's archive (XEP-0313 §5.1.1, with the XEP-0334 hints). */
import type { XmlElement } from "../../xml/element.ts";
import { NS_HINTS } from "./ns.ts";

/**
 * Payloads that carry conversation content without a `<body/>`, so that a user's other devices can rebuild the
 * conversation from the archive: encrypted messages, chat markers (read state), reactions, retractions, call
 * invitations (Jingle Message Initiation), invitations to rooms.
 */
const CONTENT_NAMESPACES = new Set([
  "eu.siacs.conversations.axolotl", // OMEMO (legacy)
  "urn:xmpp:omemo:2", // OMEMO
  "urn:xmpp:openpgp:0", // OX
  "urn:xmpp:eme:0", // XEP-0380 encryption marker
  "urn:xmpp:chat-markers:0", // XEP-0333
  "urn:xmpp:reactions:0", // XEP-0444
  "urn:xmpp:message-retract:0", // XEP-0424
  "urn:xmpp:message-retract:1",
  "urn:xmpp:jingle-message:0", // XEP-0353
  "urn:xmpp:jingle-message:1",
  "jabber:x:conference", // XEP-0249 direct invitation
]);

/** The message type as RFC 6121 §5.2.2 reads it: absent or unknown means "normal". */
export function messageTypeOf(message: XmlElement): string {
  const t = message.attrs.type;
  return t === "chat" || t === "error" || t === "groupchat" || t === "headline" ? t : "normal";
}

/**
 * True if a message between a user and a contact belongs in the user's archive: type chat or normal (not
 * groupchat, which the room archives; not headline or error), with content, unless the sender asked for it not to
 * be stored (`<no-permanent-store/>`, `<no-store/>`); `<store/>` asks for it to be kept even without content.
 */
export function worthArchiving(message: XmlElement): boolean {
  const type = messageTypeOf(message);
  if (type !== "chat" && type !== "normal") return false;
  if (message.getChild("no-permanent-store", NS_HINTS) || message.getChild("no-store", NS_HINTS)) return false;
  if (message.getChild("store", NS_HINTS)) return true;
  for (const el of message.elements()) {
    const ns = el.attrs.xmlns;
    if (el.name === "body" && (ns === undefined || ns === "jabber:client")) return true;
    if (ns !== undefined && CONTENT_NAMESPACES.has(ns)) return true;
    // XEP-0045 mediated invitation.
    if (ns === "http://jabber.org/protocol/muc#user" && el.getChild("invite")) return true;
  }
  return false;
}
