/** Conversation helpers for the MUC integration tests (XEP-0045). */
import assert from "node:assert/strict";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";

export const MUC = "http://jabber.org/protocol/muc";
export const MUC_USER = "http://jabber.org/protocol/muc#user";
export const MUC_ADMIN = "http://jabber.org/protocol/muc#admin";
export const MUC_OWNER = "http://jabber.org/protocol/muc#owner";
export const ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig";
export const SERVICE = "conference.localhost";

/** `room@conference.localhost`, or `room@conference.localhost/nick`. */
export function roomJid(room: string, nick?: string): string {
  return nick === undefined ? `${room}@${SERVICE}` : `${room}@${SERVICE}/${nick}`;
}

/** The muc#user status codes of a stanza. */
export function codes(el: XmlElement): string[] {
  return (el.getChild("x", MUC_USER)?.getChildren("status") ?? []).map((s) => s.attrs.code ?? "");
}

/** The muc#user `<item/>` of a presence. */
export function item(el: XmlElement): XmlElement | undefined {
  return el.getChild("x", MUC_USER)?.getChild("item");
}

/** The stanza error condition of an error reply. */
export function errorCondition(el: XmlElement): string | undefined {
  return el
    .getChild("error")
    ?.elements()
    .find((c) => c.attrs.xmlns === NS.stanzaErrors && c.name !== "text")?.name;
}

/** Matches presence from an occupant JID (type "" = available). */
export function presenceFrom(from: string, type = ""): (el: XmlElement) => boolean {
  return (el) => el.name === "presence" && el.attrs.from === from && (el.attrs.type ?? "") === type;
}

/** Matches the subject message that ends a join (XEP-0045 §7.2.16). */
export function isSubject(room: string): (el: XmlElement) => boolean {
  return (el) =>
    el.name === "message" &&
    (el.attrs.from ?? "").startsWith(roomJid(room)) &&
    el.getChild("subject") !== undefined &&
    el.getChild("body") === undefined;
}

export interface JoinOptions {
  password?: string;
  history?: Record<string, string>;
  /** Send presence without the MUC extension (groupchat 1.0). */
  bare?: boolean;
  extra?: XmlElement[];
}

/** Sends the join presence. */
export function sendJoin(c: TestClient, room: string, nick: string, opts: JoinOptions = {}): void {
  const x = xml(
    "x",
    { xmlns: MUC },
    opts.password !== undefined ? xml("password", null, opts.password) : undefined,
    opts.history ? xml("history", opts.history) : undefined,
  );
  c.send(xml("presence", { to: roomJid(room, nick) }, opts.bare ? undefined : x, ...(opts.extra ?? [])));
}

/** Joins and waits for the self-presence and the subject; returns the self-presence. */
export async function join(c: TestClient, room: string, nick: string, opts: JoinOptions = {}): Promise<XmlElement> {
  sendJoin(c, room, nick, opts);
  const self = await c.expect(
    (el) => el.name === "presence" && el.attrs.from === roomJid(room, nick) && codes(el).includes("110"),
  );
  assert.equal(self.attrs.type, undefined, `join failed: ${self}`);
  await c.expect(isSubject(room));
  return self;
}

/** Sends the join presence and returns the presence error. */
export async function joinError(c: TestClient, room: string, nick: string, opts: JoinOptions = {}): Promise<string> {
  sendJoin(c, room, nick, opts);
  const err = await c.expect(presenceFrom(roomJid(room, nick), "error"));
  assert.ok(err.getChild("x", MUC), "the error carries the MUC extension back");
  return errorCondition(err) ?? "(none)";
}

/** Submits a configuration form with these fields (an empty one makes an instant room). */
export function configure(c: TestClient, room: string, fields: Record<string, string | string[]> = {}) {
  const x = xml(
    "x",
    { xmlns: NS.dataForms, type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", null, ROOMCONFIG)),
    ...Object.entries(fields).map(([k, v]) =>
      xml("field", { var: k }, ...(Array.isArray(v) ? v : [v]).map((s) => xml("value", null, s))),
    ),
  );
  return c.iq(xml("iq", { type: "set", to: roomJid(room) }, xml("query", { xmlns: MUC_OWNER }, x)));
}

/** Creates a room (joining as its owner) and unlocks it with the given configuration. */
export async function createRoom(
  c: TestClient,
  room: string,
  nick: string,
  fields: Record<string, string | string[]> = {},
): Promise<XmlElement> {
  const self = await join(c, room, nick);
  assert.ok(codes(self).includes("201"), `expected a new room: ${self}`);
  const r = await configure(c, room, fields);
  assert.equal(r.attrs.type, "result", `configuration failed: ${r}`);
  return self;
}

/** Sends a groupchat message. */
export function say(c: TestClient, room: string, body: string, extra: XmlElement[] = [], id?: string): void {
  c.send(xml("message", { to: roomJid(room), type: "groupchat", id }, xml("body", null, body), ...extra));
}

/** Matches a groupchat message with this body. */
export function groupchat(body: string, from?: string): (el: XmlElement) => boolean {
  return (el) =>
    el.name === "message" &&
    el.attrs.type === "groupchat" &&
    el.getChildText("body") === body &&
    (from === undefined || el.attrs.from === from);
}

/** A muc#admin iq with items. */
export function admin(c: TestClient, room: string, type: "get" | "set", ...items: XmlElement[]) {
  return c.iq(xml("iq", { type, to: roomJid(room) }, xml("query", { xmlns: MUC_ADMIN }, ...items)));
}

/** Reads an affiliation or role list. */
export async function list(c: TestClient, room: string, attrs: Record<string, string>): Promise<XmlElement[]> {
  const r = await admin(c, room, "get", xml("item", attrs));
  assert.equal(r.attrs.type, "result", `list failed: ${r}`);
  return r.getChild("query", MUC_ADMIN)?.getChildren("item") ?? [];
}

/** Leaves a room and waits for the self-presence. */
export async function leave(c: TestClient, room: string, nick: string): Promise<XmlElement> {
  c.send(xml("presence", { to: roomJid(room, nick), type: "unavailable" }));
  return c.expect((el) => presenceFrom(roomJid(room, nick), "unavailable")(el) && codes(el).includes("110"));
}

/**
 * Waits until a stanza matching `pred` has arrived and returns everything received up to it, in order (consumed),
 * to check the order of a sequence such as a join.
 */
export async function receiveUntil(
  c: TestClient,
  pred: (el: XmlElement) => boolean,
  timeout = 3000,
): Promise<XmlElement[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const i = c.conn.received.findIndex((r) => r.kind === "element" && pred(r.el));
    if (i >= 0) {
      return c.conn.received.splice(0, i + 1).flatMap((r) => (r.kind === "element" ? [r.el] : []));
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out; received: ${c.conn.received.map((r) => (r.kind === "element" ? r.el.toString().slice(0, 200) : r.kind)).join(" | ")}`,
      );
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Logs in several users of `localhost` whose password is "pw", with initial presence. */
export async function loginAll(
  login: (user: string, resource?: string) => Promise<TestClient>,
  ...users: string[]
): Promise<TestClient[]> {
  return Promise.all(users.map((u) => login(u)));
}
