/**
 * A seeded generator of well-formed but wrong XMPP input, for the hostile-input tests: random payloads in the
 * namespaces the server handles, wrong nesting, unexpected children, missing and oversized attributes, invalid
 * JIDs and wrong types. Deterministic for a seed, so a failure can be replayed.
 */
import { createHash } from "node:crypto";
import { type Connection, Database } from "../../src/storage/sqlite/driver.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";

/** mulberry32: a small, fast PRNG with a 32-bit seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings a careless handler mishandles: JIDs that are not, numbers that are not, names of object members. */
export const INVALID_JIDS = [
  "",
  "@",
  "a@",
  "@localhost",
  "a@b@c",
  "/",
  "localhost/",
  "a@localhost/",
  "a b@localhost",
  "a@exa mple.org",
  "a@[::1",
  "a@.org",
  "a@-bad-.org",
  "\u200b@localhost",
  "\u0430lice@localhost",
  `${"x".repeat(1100)}@localhost`,
  `a@${"d".repeat(1100)}`,
  `a@localhost/${"r".repeat(1100)}`,
  "a@localhost/\u0085",
  "xmpp:alice@localhost",
  "alice@localhost?message",
];

const ODD_VALUES = [
  "",
  " ",
  "0",
  "-1",
  "1e309",
  "NaN",
  "Infinity",
  "99999999999999999999999",
  "0x10",
  "true",
  "false",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "../../etc/passwd",
  "%00",
  "\u202e",
  "😀",
  "ßẞİı",
  "<script>",
  "&amp;",
  "' or 1=1 --",
  "2024-02-30T25:61:61Z",
  "1970-01-01T00:00:00Z",
];

const NAMES = [
  "query",
  "pubsub",
  "items",
  "item",
  "publish",
  "retract",
  "subscribe",
  "unsubscribe",
  "subscriptions",
  "subscription",
  "affiliations",
  "affiliation",
  "create",
  "configure",
  "options",
  "default",
  "delete",
  "purge",
  "publish-options",
  "enable",
  "disable",
  "blocklist",
  "block",
  "unblock",
  "report",
  "text",
  "prefs",
  "always",
  "never",
  "jid",
  "metadata",
  "fin",
  "set",
  "max",
  "after",
  "before",
  "index",
  "first",
  "last",
  "count",
  "flip-page",
  "with",
  "start",
  "end",
  "command",
  "actions",
  "note",
  "request",
  "slot",
  "put",
  "get",
  "vCard",
  "vcard",
  "PHOTO",
  "BINVAL",
  "TYPE",
  "FN",
  "ping",
  "time",
  "services",
  "service",
  "credentials",
  "moderate",
  "apply-to",
  "destroy",
  "reason",
  "password",
  "username",
  "registered",
  "instructions",
  "unique",
  "storage",
  "conference",
  "nick",
  "url",
  "bind",
  "resource",
  "session",
  "group",
  "history",
  "invite",
  "decline",
  "continue",
  "status",
  "show",
  "priority",
  "body",
  "subject",
  "thread",
  "stanza-id",
  "origin-id",
  "delay",
  "forwarded",
  "message",
  "iq",
  "presence",
  "c",
  "x",
  "field",
  "value",
  "option",
  "notification",
  "preauth",
  "entry",
];

const ATTRS = [
  "node",
  "jid",
  "id",
  "type",
  "var",
  "action",
  "sessionid",
  "max_items",
  "size",
  "filename",
  "content-type",
  "role",
  "affiliation",
  "nick",
  "queryid",
  "ver",
  "name",
  "subscription",
  "approved",
  "ask",
  "h",
  "previd",
  "resume",
  "max",
  "notify",
  "publisher",
  "by",
  "stamp",
  "seconds",
  "token",
  "default",
  "from",
  "to",
  "hash",
  "code",
  "status",
  "label",
  "xml:lang",
  "maxstanzas",
  "maxchars",
  "since",
  "autojoin",
];

const FIELD_VARS = [
  "FORM_TYPE",
  "with",
  "start",
  "end",
  "after-id",
  "before-id",
  "ids",
  "pubsub#access_model",
  "pubsub#max_items",
  "pubsub#persist_items",
  "pubsub#roster_groups_allowed",
  "pubsub#send_last_published_item",
  "pubsub#notification_type",
  "pubsub#unknown",
  "muc#roomconfig_membersonly",
  "muc#roomconfig_maxusers",
  "muc#roomconfig_whois",
  "muc#roomconfig_roomsecret",
  "muc#roomconfig_persistentroom",
  "muc#register_roomnick",
  "muc#request_allow",
  "muc#roomnick",
  "muc#role",
  "accountjid",
  "accountjids",
  "password",
  "password-verify",
  "announcement",
  "username",
  "old_password",
  "secret",
  "roster",
];

const FORM_TYPES = [
  "http://jabber.org/protocol/pubsub#node_config",
  "http://jabber.org/protocol/pubsub#publish-options",
  "http://jabber.org/protocol/muc#roomconfig",
  "http://jabber.org/protocol/muc#register",
  "http://jabber.org/protocol/muc#request",
  "http://jabber.org/protocol/admin",
  "urn:xmpp:mam:2",
  "jabber:iq:register",
  "jabber:iq:register:changepassword",
  "urn:example:unknown",
];

/** Where generated stanzas go, and JIDs to mention inside them. */
export interface FuzzTargets {
  /** `to` values, valid or not, the generator picks from at random. */
  addresses: string[];
  /** Valid JIDs to put in attributes and fields. */
  jids: string[];
}

/** Namespaces the templates use that NS does not name. */
const N = {
  private: "jabber:iq:private",
  vcard: "vcard-temp",
  vcard4: "urn:ietf:params:xml:ns:vcard-4.0",
  blocking: "urn:xmpp:blocking",
  reporting: "urn:xmpp:reporting:1",
  mam: "urn:xmpp:mam:2",
  mam0: "urn:xmpp:mam:0",
  rsm: "http://jabber.org/protocol/rsm",
  pubsub: "http://jabber.org/protocol/pubsub",
  pubsubOwner: "http://jabber.org/protocol/pubsub#owner",
  carbons: "urn:xmpp:carbons:2",
  push: "urn:xmpp:push:0",
  upload: "urn:xmpp:http:upload:0",
  muc: "http://jabber.org/protocol/muc",
  mucUser: "http://jabber.org/protocol/muc#user",
  mucAdmin: "http://jabber.org/protocol/muc#admin",
  mucOwner: "http://jabber.org/protocol/muc#owner",
  mucUnique: "http://jabber.org/protocol/muc#unique",
  moderate: "urn:xmpp:message-moderate:1",
  retract: "urn:xmpp:message-retract:1",
  fasten: "urn:xmpp:fasten:0",
  bookmarks: "urn:xmpp:bookmarks:1",
  legacyBookmarks: "storage:bookmarks",
  invite: "urn:xmpp:invite#invite",
  createAccount: "urn:xmpp:invite#create-account",
  receipts: "urn:xmpp:receipts",
  markers: "urn:xmpp:chat-markers:0",
  chatStates: "http://jabber.org/protocol/chatstates",
  hints: "urn:xmpp:hints",
  sid: "urn:xmpp:sid:0",
} as const;

/** Where a request template is naturally sent. */
export type Dest = "host" | "self" | "contact" | "contactFull" | "room" | "ownRoom" | "occupant" | "muc" | "upload";

/** A valid-looking request: where it goes, its type, and a payload builder. */
interface Template {
  to: Dest | Dest[];
  type: "get" | "set";
  payload(f: StanzaFuzzer): XmlElement;
}

const field = (name: string, ...values: string[]) =>
  xml("field", { var: name }, ...values.map((v) => xml("value", null, v)));
const form = (type: string, formType: string | null, ...fields: XmlElement[]) =>
  xml("x", { xmlns: NS.dataForms, type }, formType ? field("FORM_TYPE", formType) : undefined, ...fields);

/** One valid (or nearly valid) request per feature the server answers; mutations then make them wrong. */
const TEMPLATES: Template[] = [
  { to: "self", type: "get", payload: () => xml("query", { xmlns: NS.roster, ver: "" }) },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: NS.roster },
        xml("item", { jid: f.jid(), name: f.value().slice(0, 40) }, xml("group", null, f.value().slice(0, 40))),
      ),
  },
  {
    to: "self",
    type: "set",
    payload: (f) => xml("query", { xmlns: NS.roster }, xml("item", { jid: f.jid(), subscription: "remove" })),
  },
  { to: "self", type: "get", payload: () => xml("blocklist", { xmlns: N.blocking }) },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        f.pick(["block", "unblock"]),
        { xmlns: N.blocking },
        xml(
          "item",
          // Blocking the fuzzer's own targets would only make everything after it fail early.
          {
            jid: f.pick([
              `spam${f.int(100)}@example.net`,
              "example.org",
              f.pick(INVALID_JIDS),
              f.value().slice(0, 200),
            ]),
          },
          f.chance(0.3)
            ? xml("report", { xmlns: N.reporting, reason: "urn:xmpp:reporting:spam" }, xml("text", null, f.value()))
            : undefined,
        ),
      ),
  },
  {
    to: "self",
    type: "get",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.private },
        xml(f.pick(["notes", "storage"]), { xmlns: f.pick(["urn:x:notes", N.legacyBookmarks]) }),
      ),
  },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.private },
        f.chance(0.5)
          ? xml(
              "storage",
              { xmlns: N.legacyBookmarks },
              xml("conference", { jid: f.jid(), autojoin: "true" }, xml("nick", null, "n")),
              xml("url", { url: f.value() }),
            )
          : xml("notes", { xmlns: "urn:x:notes" }, f.value()),
      ),
  },
  { to: "self", type: "get", payload: () => xml("vCard", { xmlns: N.vcard }) },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "vCard",
        { xmlns: N.vcard },
        xml("FN", null, f.value()),
        xml(
          "PHOTO",
          null,
          xml("TYPE", null, f.pick(["image/png", f.value()])),
          xml("BINVAL", null, f.pick(["aGVsbG8=", f.value(), "!!!"])),
        ),
      ),
  },
  { to: "contact", type: "get", payload: () => xml("vCard", { xmlns: N.vcard }) },
  { to: "self", type: "get", payload: () => xml("vcard", { xmlns: N.vcard4 }) },
  {
    to: "self",
    type: "set",
    payload: (f) => xml("vcard", { xmlns: N.vcard4 }, xml("fn", null, xml("text", null, f.value()))),
  },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: f.pick([N.mam, N.mam0, "urn:xmpp:mam:1"]), queryid: f.value() },
        form(
          "submit",
          N.mam,
          field(f.pick(["with", "start", "end", "after-id", "before-id", "ids", "unknown"]), f.value()),
        ),
        xml("set", { xmlns: N.rsm }, xml(f.pick(["max", "after", "before", "index"]), null, f.value())),
        f.chance(0.2) ? xml("flip-page") : undefined,
      ),
  },
  { to: "self", type: "get", payload: (f) => xml(f.pick(["query", "metadata", "prefs"]), { xmlns: N.mam }) },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "prefs",
        { xmlns: N.mam, default: f.pick(["always", "never", "roster", f.value()]) },
        xml("always", null, xml("jid", null, f.jid())),
        xml("never", null, xml("jid", null, f.jid())),
      ),
  },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsub },
        xml(
          "publish",
          { node: f.node() },
          xml(
            "item",
            { id: f.pick([f.value().slice(0, 40), f.jid()]) },
            xml(f.pick(["tune", "conference", "storage", "vcard", "data", "metadata"]), { xmlns: f.node() }, f.value()),
          ),
        ),
        f.chance(0.5)
          ? xml(
              "publish-options",
              null,
              form(
                "submit",
                "http://jabber.org/protocol/pubsub#publish-options",
                field(
                  f.pick([
                    "pubsub#access_model",
                    "pubsub#max_items",
                    "pubsub#persist_items",
                    "pubsub#send_last_published_item",
                    "pubsub#bogus",
                  ]),
                  f.value(),
                ),
              ),
            )
          : undefined,
      ),
  },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsub },
        f.pick([
          xml("retract", { node: f.node(), notify: f.value() }, xml("item", { id: f.value() })),
          xml("create", { node: f.node() }),
          xml("subscribe", { node: f.node(), jid: f.jid() }),
          xml("unsubscribe", { node: f.node(), jid: f.jid() }),
          xml("options", { node: f.node(), jid: f.jid() }),
        ]),
        f.chance(0.3)
          ? xml(
              "configure",
              null,
              form("submit", "http://jabber.org/protocol/pubsub#node_config", field("pubsub#access_model", f.value())),
            )
          : undefined,
      ),
  },
  {
    to: "contact",
    type: "get",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsub },
        xml(
          f.pick(["items", "subscriptions", "affiliations"]),
          { node: f.node(), max_items: f.value() },
          xml("item", { id: f.value() }),
        ),
      ),
  },
  {
    to: "self",
    type: "get",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsub },
        xml(f.pick(["items", "subscriptions", "affiliations"]), { node: f.node(), max_items: f.value() }),
      ),
  },
  {
    to: "self",
    type: "get",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsubOwner },
        xml(f.pick(["configure", "default", "affiliations", "subscriptions"]), { node: f.node() }),
      ),
  },
  {
    to: "self",
    type: "set",
    payload: (f) =>
      xml(
        "pubsub",
        { xmlns: N.pubsubOwner },
        f.pick([
          xml(
            "configure",
            { node: f.node() },
            form(
              f.pick(["submit", "cancel", "form"]),
              "http://jabber.org/protocol/pubsub#node_config",
              field(
                f.pick([
                  "pubsub#access_model",
                  "pubsub#max_items",
                  "pubsub#roster_groups_allowed",
                  "pubsub#notify_config",
                  "pubsub#x",
                ]),
                f.value(),
              ),
            ),
          ),
          xml("delete", { node: f.node() }),
          xml("purge", { node: f.node() }),
          xml(
            "affiliations",
            { node: f.node() },
            xml("affiliation", {
              jid: f.jid(),
              affiliation: f.pick(["member", "outcast", "none", "owner", f.value()]),
            }),
          ),
        ]),
      ),
  },
  {
    to: "self",
    type: "get",
    payload: (f) =>
      xml(f.pick(["query"]), {
        xmlns: f.pick([NS.discoInfo, NS.discoItems]),
        node: f.chance(0.5) ? f.node() : undefined,
      }),
  },
  {
    to: "host",
    type: "get",
    payload: (f) =>
      xml("query", {
        xmlns: f.pick([NS.discoInfo, NS.discoItems]),
        node: f.chance(0.5) ? f.pick([NS.commands, `${NS.commands}x`, N.invite, f.value()]) : undefined,
      }),
  },
  {
    to: "host",
    type: "set",
    payload: (f) =>
      xml(
        "command",
        {
          xmlns: NS.commands,
          node: f.pick([N.invite, N.createAccount, "http://jabber.org/protocol/admin#add-user", f.value()]),
          action: f.pick([undefined, "execute", "next", "prev", "complete", "cancel", f.value()]),
          sessionid: f.chance(0.3) ? f.value() : undefined,
        },
        f.chance(0.5)
          ? form(
              "submit",
              f.pick(["urn:xmpp:invite#invitation", "http://jabber.org/protocol/admin", null]),
              field(f.pick(["username", "roster", "accountjid", "password"]), f.value()),
            )
          : undefined,
      ),
  },
  { to: "host", type: "get", payload: () => xml("query", { xmlns: NS.register }) },
  {
    to: "host",
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: NS.register },
        f.chance(0.5) ? xml("username", null, f.pick(["alice", f.value()])) : undefined,
        xml("password", null, f.chance(0.5) ? "" : f.value().slice(0, 64)),
        f.chance(0.3)
          ? form("submit", "jabber:iq:register:changepassword", field("old_password", f.value()), field("password", ""))
          : undefined,
      ),
  },
  { to: "host", type: "set", payload: (f) => xml(f.pick(["enable", "disable", "private"]), { xmlns: N.carbons }) },
  {
    to: "host",
    type: "set",
    payload: (f) =>
      xml(
        f.pick(["enable", "disable"]),
        { xmlns: N.push, jid: f.jid(), node: f.value() },
        f.chance(0.5)
          ? form(
              "submit",
              f.pick(["http://jabber.org/protocol/pubsub#publish-options", "urn:x"]),
              field("secret", f.value()),
            )
          : undefined,
      ),
  },
  { to: "host", type: "get", payload: () => xml("ping", { xmlns: NS.ping }) },
  { to: "host", type: "get", payload: () => xml("time", { xmlns: NS.time }) },
  { to: "host", type: "get", payload: (f) => xml("query", { xmlns: f.pick([NS.version, NS.last]) }) },
  { to: "contact", type: "get", payload: () => xml("query", { xmlns: NS.last }) },
  {
    to: "host",
    type: "get",
    payload: (f) =>
      xml(
        f.pick(["services", "credentials"]),
        { xmlns: NS.extdisco, type: f.value() },
        xml("service", { host: f.value(), type: "turn" }),
      ),
  },
  { to: "host", type: "set", payload: (f) => xml("bind", { xmlns: NS.bind }, xml("resource", null, f.value())) },
  { to: "host", type: "set", payload: () => xml("session", { xmlns: NS.session }) },
  {
    to: "upload",
    type: "get",
    payload: (f) =>
      xml("request", {
        xmlns: N.upload,
        filename: f.pick(["a.png", "../../etc/passwd", "", f.value()]),
        size: f.pick(["1", "0", "-1", "1e9", "99999999999999999", f.value()]),
        "content-type": f.pick([undefined, "image/png", "text/html; charset=x", f.value()]),
      }),
  },
  {
    to: "muc",
    type: "get",
    payload: (f) =>
      xml(
        f.pick(["unique", "query"]),
        { xmlns: f.pick([N.mucUnique, NS.discoItems, NS.discoInfo]) },
        xml("set", { xmlns: N.rsm }, xml(f.pick(["max", "after", "before", "index"]), null, f.value())),
      ),
  },
  {
    to: ["room", "ownRoom"],
    type: "get",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.mucAdmin },
        xml("item", {
          affiliation: f.pick(["member", "admin", "owner", "outcast", "none", f.value()]),
          role: f.chance(0.3) ? f.pick(["moderator", "participant", "visitor", f.value()]) : undefined,
        }),
      ),
  },
  {
    to: ["room", "ownRoom"],
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.mucAdmin },
        xml(
          "item",
          {
            jid: f.chance(0.7) ? f.jid() : undefined,
            nick: f.chance(0.5) ? f.pick(["Bob", "Alice", f.value()]) : undefined,
            affiliation: f.chance(0.6) ? f.pick(["member", "admin", "owner", "outcast", "none"]) : undefined,
            role: f.chance(0.4) ? f.pick(["moderator", "participant", "visitor", "none"]) : undefined,
          },
          xml("reason", null, f.value()),
        ),
      ),
  },
  { to: ["room", "ownRoom"], type: "get", payload: () => xml("query", { xmlns: N.mucOwner }) },
  {
    to: "ownRoom",
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.mucOwner },
        form(
          f.pick(["submit", "cancel"]),
          "http://jabber.org/protocol/muc#roomconfig",
          field(
            f.pick([
              "muc#roomconfig_maxusers",
              "muc#roomconfig_whois",
              "muc#roomconfig_allowpm",
              "muc#roomconfig_roomname",
              "muc#maxhistoryfetch",
              "muc#roomconfig_presencebroadcast",
              "muc#roomconfig_passwordprotectedroom",
              "muc#roomconfig_bogus",
            ]),
            f.value(),
          ),
        ),
      ),
  },
  {
    to: ["room", "ownRoom"],
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: NS.register },
        form("submit", "http://jabber.org/protocol/muc#register", field("muc#register_roomnick", f.value())),
      ),
  },
  {
    to: ["room", "ownRoom"],
    type: "get",
    payload: (f) =>
      xml(f.pick(["query", "vCard"]), {
        xmlns: f.pick([NS.register, N.vcard, NS.discoInfo]),
        node: f.chance(0.5) ? "x-roomuser-item" : undefined,
      }),
  },
  {
    to: "ownRoom",
    type: "set",
    payload: (f) => xml("vCard", { xmlns: N.vcard }, xml("PHOTO", null, xml("BINVAL", null, f.value()))),
  },
  {
    to: ["room", "ownRoom"],
    type: "set",
    payload: (f) =>
      f.chance(0.5)
        ? xml(
            "moderate",
            { xmlns: N.moderate, id: f.value() },
            xml("retract", { xmlns: N.retract }),
            xml("reason", null, f.value()),
          )
        : xml(
            "apply-to",
            { xmlns: N.fasten, id: f.value() },
            xml(
              "moderate",
              { xmlns: "urn:xmpp:message-moderate:0" },
              xml("retract", { xmlns: "urn:xmpp:message-retract:0" }),
            ),
          ),
  },
  {
    to: ["room", "ownRoom"],
    type: "set",
    payload: (f) =>
      xml(
        "query",
        { xmlns: N.mam, queryid: f.value() },
        form("submit", N.mam, field(f.pick(["with", "start", "ids"]), f.value())),
      ),
  },
  {
    to: ["occupant", "contactFull"],
    type: "get",
    payload: (f) => xml(f.pick(["ping", "query", "vCard"]), { xmlns: f.pick([NS.ping, NS.version, N.vcard]) }),
  },
];

/** Messages the server looks into (MUC, carbons, MAM, receipts, invitations). */
const MESSAGE_PAYLOADS: ((f: StanzaFuzzer) => XmlElement)[] = [
  (f) =>
    xml(
      "x",
      { xmlns: N.mucUser },
      xml(
        f.pick(["invite", "decline"]),
        { to: f.jid() },
        xml("reason", null, f.value()),
        xml("continue", { thread: f.value() }),
      ),
    ),
  (f) => xml("x", { xmlns: "jabber:x:conference", jid: f.jid(), password: f.value() }),
  (f) =>
    form(
      "submit",
      "http://jabber.org/protocol/muc#request",
      field(f.pick(["muc#role", "muc#request_allow", "muc#roomnick"]), f.value()),
    ),
  (f) => xml("retract", { xmlns: N.retract, id: f.value() }),
  (f) =>
    xml(
      f.pick(["sent", "received", "private"]),
      { xmlns: N.carbons },
      xml(
        "forwarded",
        { xmlns: "urn:xmpp:forward:0" },
        xml("message", { from: f.jid(), to: f.jid() }, xml("body", null, f.value())),
      ),
    ),
  (f) => xml("stanza-id", { xmlns: N.sid, by: f.jid(), id: f.value() }),
  (f) => xml(f.pick(["request", "received"]), { xmlns: N.receipts, id: f.value() }),
  (f) => xml(f.pick(["markable", "displayed"]), { xmlns: N.markers, id: f.value() }),
  (f) => xml(f.pick(["active", "composing", "paused"]), { xmlns: N.chatStates }),
  (f) => xml(f.pick(["store", "no-store", "no-copy", "no-permanent-store"]), { xmlns: N.hints }),
  (f) => xml("subject", null, f.value()),
  (f) => xml("event", { xmlns: "http://jabber.org/protocol/pubsub#event" }, xml("items", { node: f.node() })),
];

/** Presence payloads: MUC joins with history and passwords, caps, avatars, priorities, preauth tokens. */
const PRESENCE_PAYLOADS: ((f: StanzaFuzzer) => XmlElement)[] = [
  (f) =>
    xml(
      "x",
      { xmlns: N.muc },
      xml("history", { maxstanzas: f.value(), maxchars: f.value(), seconds: f.value(), since: f.value() }),
      xml("password", null, f.value()),
    ),
  (f) => xml("c", { xmlns: NS.caps, hash: f.pick(["sha-1", "md5", f.value()]), node: f.value(), ver: f.value() }),
  (f) => xml("x", { xmlns: "vcard-temp:x:update" }, xml("photo", null, f.value())),
  (f) => xml("priority", null, f.value()),
  (f) => xml("show", null, f.pick(["away", "chat", "dnd", "xa", f.value()])),
  (f) => xml("preauth", { xmlns: NS.pars, token: f.value() }),
  (f) =>
    xml(
      "x",
      { xmlns: N.mucUser },
      xml("item", { affiliation: "owner", role: "moderator", jid: f.jid() }),
      xml("status", { code: "110" }),
    ),
];

/**
 * Makes request templates wrong in the ways real input is: attributes dropped, given odd values or invalid JIDs,
 * unexpected or duplicated children, wrong nesting, renamed elements, wrong namespaces, the other iq type.
 */
export class StanzaFuzzer {
  constructor(
    private readonly random: () => number,
    private readonly targets: FuzzTargets & { dests: Record<Dest, string> },
    /** Largest random text; stays well below the stanza size limit. */
    private readonly hugeLength = 20_000,
  ) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  /** A JID to put in an attribute: mostly real ones, sometimes invalid ones. */
  jid(): string {
    return this.chance(0.75) ? this.pick(this.targets.jids) : this.pick(INVALID_JIDS);
  }

  /** A PEP node name: the ones modules care about, or anything. */
  node(): string {
    return this.chance(0.8)
      ? this.pick([
          N.bookmarks,
          N.legacyBookmarks,
          "urn:xmpp:vcard4",
          "urn:xmpp:avatar:data",
          "urn:xmpp:avatar:metadata",
          "http://jabber.org/protocol/tune",
          "eu.siacs.conversations.axolotl.devicelist",
        ])
      : this.value().slice(0, 300);
  }

  /** A random string: an odd value, a JID (valid or not), a huge run, or printable noise. */
  value(): string {
    const r = this.random();
    if (r < 0.3) return this.pick(ODD_VALUES);
    if (r < 0.45) return this.pick(this.targets.jids);
    if (r < 0.6) return this.pick(INVALID_JIDS);
    if (r < 0.63) return this.pick(["a", "0", "x", "\u00e9"]).repeat(this.hugeLength);
    if (r < 0.75) return String(this.int(1000) - 10);
    let s = "";
    const n = this.int(24);
    for (let i = 0; i < n; i++) s += String.fromCharCode(32 + this.int(95));
    return s;
  }

  private attrs(): Record<string, string> {
    const out: Record<string, string> = {};
    const n = this.int(4);
    for (let i = 0; i < n; i++) out[this.pick(ATTRS)] = this.value();
    return out;
  }

  /** A data form of a random type with random fields (known and unknown names, odd values). */
  form(): XmlElement {
    const x = xml("x", { xmlns: NS.dataForms, type: this.pick(["submit", "form", "result", "cancel", "", "bogus"]) });
    if (this.chance(0.7)) x.append(field("FORM_TYPE", this.pick(FORM_TYPES)));
    const n = this.int(5);
    for (let i = 0; i < n; i++) {
      const f = xml("field", { var: this.chance(0.9) ? this.pick(FIELD_VARS) : this.value() });
      if (this.chance(0.3)) f.attrs.type = this.pick(["boolean", "jid-multi", "list-single", "text-private", "x"]);
      const values = this.int(3);
      for (let v = 0; v < values; v++) f.append(xml("value", null, this.value()));
      if (this.chance(0.1)) f.append(xml("value", null, xml("value", null, "nested")));
      x.append(f);
    }
    return x;
  }

  /** A random element tree: names from the server's vocabulary, random attributes, text and children. */
  element(ns: string | undefined, depth: number): XmlElement {
    const el = xml(this.pick(NAMES), this.attrs());
    if (ns !== undefined) el.attrs.xmlns = ns;
    else if (this.chance(0.1)) el.attrs.xmlns = this.pick(Object.values(N));
    if (depth > 0) {
      const n = this.int(4);
      for (let i = 0; i < n; i++) {
        const r = this.random();
        if (r < 0.15) el.append(this.form());
        else if (r < 0.3) el.append(this.value().slice(0, 200));
        else el.append(this.element(undefined, depth - 1));
      }
    }
    return el;
  }

  /** Every element of a tree, the root first. */
  private nodes(el: XmlElement): XmlElement[] {
    return [el, ...el.elements().flatMap((c) => this.nodes(c))];
  }

  /** Applies one random mutation somewhere in the tree (never removes the root). */
  mutate(root: XmlElement): void {
    const all = this.nodes(root);
    const el = this.pick(all);
    const children = el.elements();
    switch (this.int(10)) {
      case 0: {
        const keys = Object.keys(el.attrs).filter((k) => k !== "xmlns" || el !== root);
        if (keys.length) el.attrs[this.pick(keys)] = this.value();
        break;
      }
      case 1: {
        const keys = Object.keys(el.attrs).filter((k) => k !== "xmlns");
        if (keys.length) delete el.attrs[this.pick(keys)];
        break;
      }
      case 2:
        el.attrs[this.pick(ATTRS)] = this.value();
        break;
      case 3:
        el.append(this.chance(0.3) ? this.form() : this.element(undefined, 2));
        break;
      case 4:
        if (children.length) el.append(this.pick(children).clone());
        break;
      case 5:
        if (children.length) el.children = el.children.filter((c) => c !== this.pick(children));
        break;
      case 6: {
        // Wrong nesting: a child moves one level down, into a sibling or a new wrapper.
        if (children.length) {
          const moved = this.pick(children);
          el.children = el.children.filter((c) => c !== moved);
          const into = children.find((c) => c !== moved) ?? xml(this.pick(NAMES));
          into.append(moved);
          if (!el.children.includes(into)) el.append(into);
        }
        break;
      }
      case 7:
        if (el !== root) el.name = this.pick(NAMES);
        break;
      case 8:
        if (el !== root) el.attrs.xmlns = this.chance(0.5) ? this.pick(Object.values(N)) : this.value().slice(0, 100);
        break;
      default:
        el.children = [...el.elements(), this.value().slice(0, 500)];
    }
  }

  /** An iq get or set with this id: a template, mutated 0–3 times, to its natural address or anywhere. */
  iq(id: string): XmlElement {
    const t = this.pick(TEMPLATES);
    const type = this.chance(0.9) ? t.type : t.type === "get" ? "set" : "get";
    const dest = Array.isArray(t.to) ? this.pick(t.to) : t.to;
    const to = this.chance(0.85) ? this.targets.dests[dest] : this.pick(this.targets.addresses);
    const iq = xml("iq", { type, id });
    if (to !== "") iq.attrs.to = to;
    const r = this.random();
    if (r < 0.02) return iq;
    const payload = t.payload(this);
    const n = this.int(4);
    for (let i = 0; i < n; i++) this.mutate(payload);
    iq.append(payload);
    if (r < 0.04) iq.append(this.element(payload.attrs.xmlns, 1));
    return iq;
  }

  /** The namespaces of the payloads the templates produce (sampled), to check every handler is reached. */
  templateNamespaces(samples = 20): Set<string> {
    const out = new Set<string>();
    for (const t of TEMPLATES) for (let i = 0; i < samples; i++) out.add(t.payload(this).attrs.xmlns ?? "");
    return out;
  }

  /** A message, presence, or iq result/error: nothing is owed an answer, but nothing may break either. */
  other(id: string): XmlElement {
    const name = this.pick(["message", "message", "presence", "iq"]);
    const type =
      name === "iq"
        ? this.pick(["result", "error"])
        : name === "message"
          ? this.pick([undefined, "chat", "groupchat", "normal", "headline", "error", "bogus"])
          : this.pick([
              undefined,
              undefined,
              "unavailable",
              "subscribe",
              "subscribed",
              "unsubscribe",
              "probe",
              "error",
              "bogus",
            ]);
    const stanza = xml(name, { id, type });
    if (this.chance(0.9)) stanza.attrs.to = this.pick(this.targets.addresses);
    const builders = name === "presence" ? PRESENCE_PAYLOADS : MESSAGE_PAYLOADS;
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const p = this.chance(0.85) ? this.pick(builders)(this) : this.element(this.pick(Object.values(N)), 2);
      const m = this.int(3);
      for (let k = 0; k < m; k++) this.mutate(p);
      stanza.append(p);
    }
    if (name === "message" && this.chance(0.6)) stanza.append(xml("body", null, this.value().slice(0, 500)));
    return stanza;
  }
}

/**
 * A fingerprint of everything stored: a hash of every table's rows, read through a separate read-only connection
 * (SQLite WAL: it sees what the server committed).
 */
export class StorageProbe {
  private readonly db: Connection;
  private readonly tables: string[];

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.tables = (
      this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
  }

  /** Table name → hash of its rows. */
  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const t of this.tables) {
      const rows = this.db.prepare(`SELECT * FROM "${t}"`).raw().all();
      out.set(t, createHash("sha1").update(JSON.stringify(rows)).digest("hex"));
    }
    return out;
  }

  /** The tables whose content differs between two snapshots. */
  static changed(a: Map<string, string>, b: Map<string, string>): string[] {
    return [...b.keys()].filter((t) => a.get(t) !== b.get(t));
  }

  close(): void {
    this.db.close();
  }
}
