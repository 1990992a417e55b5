import { isStanzaKind } from "../core/stanza.ts";
import { serialize, XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/**
 * Serializes an element for a transport where every element stands alone (a WebSocket frame, RFC 7395 §3.3.3)
 * or sits inside a foreign wrapper (a BOSH `<body/>`, XEP-0206 §6): stanzas get `xmlns='jabber:client'`, which
 * on TCP they inherit from the stream header, and `stream:` elements get their prefix declared.
 * The element itself is not modified.
 */
export function serializeStandalone(el: XmlElement): string {
  if (el.attrs.xmlns === undefined && isStanzaKind(el.name)) {
    return serialize(new XmlElement(el.name, { xmlns: NS.client, ...el.attrs }, el.children));
  }
  if (el.name.startsWith("stream:") && el.attrs["xmlns:stream"] === undefined) {
    return serialize(new XmlElement(el.name, { "xmlns:stream": NS.stream, ...el.attrs }, el.children));
  }
  return serialize(el);
}

/**
 * Makes an incoming standalone stanza look like one read from a TCP stream, where `jabber:client` is the
 * inherited default and so not an attribute: the router, modules and other transports then see one form.
 * COMPAT: a stanza with no namespace at all is taken as jabber:client (some web clients omit it).
 */
export function normalizeIncoming(el: XmlElement): XmlElement {
  if (el.attrs.xmlns === NS.client && isStanzaKind(el.name)) delete el.attrs.xmlns;
  return el;
}
