/** Namespaces of message history: MAM (XEP-0313) in its three deployed versions, and what it builds on. */
export const MAM_NS = {
  /** XEP-0313 ≥ 0.6, current. */
  v2: "urn:xmpp:mam:2",
  /** XEP-0313 0.4–0.5: same protocol, no stanza-id contract. */
  v1: "urn:xmpp:mam:1",
  /** XEP-0313 0.3: the end of the results is a `<fin/>` message after an empty iq result. */
  v0: "urn:xmpp:mam:0",
  /** XEP-0313 §7: before-id/after-id/ids filters, flipped pages, metadata. */
  extended: "urn:xmpp:mam:2#extended",
} as const;

/** The MAM namespaces clients send, newest first; a query is answered in the namespace it was asked in. */
export const MAM_NAMESPACES: readonly string[] = [MAM_NS.v2, MAM_NS.v1, MAM_NS.v0];

export const NS_SID = "urn:xmpp:sid:0"; // XEP-0359
export const NS_RSM = "http://jabber.org/protocol/rsm"; // XEP-0059
export const NS_FORWARD = "urn:xmpp:forward:0"; // XEP-0297
export const NS_HINTS = "urn:xmpp:hints"; // XEP-0334
export const NS_XDATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"; // XEP-0122
