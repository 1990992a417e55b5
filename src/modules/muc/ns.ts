/** Namespaces the MUC service speaks, named after the spec that defines them. */
export const MUC_NS = {
  /** XEP-0045 */
  muc: "http://jabber.org/protocol/muc",
  user: "http://jabber.org/protocol/muc#user",
  admin: "http://jabber.org/protocol/muc#admin",
  owner: "http://jabber.org/protocol/muc#owner",
  unique: "http://jabber.org/protocol/muc#unique",
  request: "http://jabber.org/protocol/muc#request",
  register: "http://jabber.org/protocol/muc#register",
  roomconfig: "http://jabber.org/protocol/muc#roomconfig",
  roominfo: "http://jabber.org/protocol/muc#roominfo",
  /** XEP-0045 muc#stable_id: the room keeps the sender's message id when it reflects a message. */
  stableId: "http://jabber.org/protocol/muc#stable_id",
  /** XEP-0410 §3.3: the service answers self-pings itself. */
  selfPing: "http://jabber.org/protocol/muc#self-ping-optimization",
  iqRegister: "jabber:iq:register",
  /** XEP-0249 direct invitations. */
  conference: "jabber:x:conference",
  /** XEP-0421 */
  occupantId: "urn:xmpp:occupant-id:0",
  /** XEP-0359 */
  sid: "urn:xmpp:sid:0",
  /** XEP-0424 (v0.4+) and XEP-0425 (v0.3+). */
  retract: "urn:xmpp:message-retract:1",
  moderate: "urn:xmpp:message-moderate:1",
  /** XEP-0054 / XEP-0153 vCard-based avatars. */
  vcard: "vcard-temp",
  vcardUpdate: "vcard-temp:x:update",
  /** XEP-0059 */
  rsm: "http://jabber.org/protocol/rsm",
  /** XEP-0334 */
  hints: "urn:xmpp:hints",
  /** XEP-0085 */
  chatStates: "http://jabber.org/protocol/chatstates",
} as const;

/**
 * XEP-0045 §15.6 status codes the service sends. Kept as constants so that a grep finds every place a code is
 * produced.
 */
export const STATUS = {
  nonAnonymous: "100",
  configChanged: "104",
  self: "110",
  logging: "170",
  notLogging: "171",
  nowNonAnonymous: "172",
  nowSemiAnonymous: "173",
  created: "201",
  nickModified: "210",
  banned: "301",
  nickChanged: "303",
  kicked: "307",
  affiliationRemoved: "321",
  membersOnly: "322",
  shutdown: "332",
  /** Removed because a stanza to the occupant bounced (a technical problem; XEP-0410 relies on it). */
  error: "333",
} as const;
