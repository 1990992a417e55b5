/** Conversation helpers shared by the roster, presence, message and offline integration tests. */
import assert from "node:assert/strict";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";

/** Sends a roster get (optionally with a version) and returns the iq result. */
export function rosterGet(c: TestClient, ver?: string): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster, ver })));
}

/** Sends a roster set for one item and returns the iq answer. */
export function rosterSet(c: TestClient, jid: string, opts: { name?: string; groups?: string[] } = {}) {
  const item = xml("item", { jid, name: opts.name }, ...(opts.groups ?? []).map((g) => xml("group", null, g)));
  return c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS.roster }, item)));
}

/** The items of a roster result or push. */
export function items(iq: XmlElement): XmlElement[] {
  return iq.getChild("query", NS.roster)?.getChildren("item") ?? [];
}

/** Waits for a roster push about `jid` (whose item matches `pred`, if given) and returns its item. */
export async function expectPush(
  c: TestClient,
  jid: string,
  pred: (item: XmlElement) => boolean = () => true,
): Promise<XmlElement> {
  const push = await c.expect(
    (el) => el.name === "iq" && el.attrs.type === "set" && items(el).some((i) => i.attrs.jid === jid && pred(i)),
  );
  assert.ok(push.attrs.from === undefined || push.attrs.from === c.bare, "a push comes from the account itself");
  return items(push)[0] as XmlElement;
}

/** Matches a presence stanza of a type ("" = available) from an address (bare or full prefix match). */
export function presence(type: string, from?: string): (el: XmlElement) => boolean {
  return (el) =>
    el.name === "presence" &&
    (el.attrs.type ?? "") === type &&
    (from === undefined || el.attrs.from === from || (el.attrs.from ?? "").startsWith(`${from}/`));
}

export function message(to: string, body: string, type = "chat", id?: string): XmlElement {
  return xml("message", { to, type, id }, xml("body", null, body));
}

/** Matches a message carrying this body. */
export function withBody(body: string): (el: XmlElement) => boolean {
  return (el) => el.name === "message" && el.getChildText("body") === body;
}

/** The stanza error condition of an error reply. */
export function errorCondition(el: XmlElement): string | undefined {
  return el
    .getChild("error")
    ?.elements()
    .find((c) => c.attrs.xmlns === NS.stanzaErrors && c.name !== "text")?.name;
}

/**
 * Gives `a` a subscription to `b`'s presence the way clients do it (RFC 6121 §3.1): `a` sends "subscribe", `b`
 * receives it and answers "subscribed". Both must be available; `a` must be an interested resource.
 */
export async function subscribe(a: TestClient, b: TestClient): Promise<void> {
  a.send(xml("presence", { to: b.bare, type: "subscribe" }));
  await b.expect(presence("subscribe", a.bare));
  b.send(xml("presence", { to: a.bare, type: "subscribed" }));
  await a.expect(presence("subscribed", b.bare));
  await expectPush(a, b.bare, (i) => i.attrs.subscription === "to" || i.attrs.subscription === "both");
}

/** Mutual subscription between two available, interested clients. */
export async function befriend(a: TestClient, b: TestClient): Promise<void> {
  await subscribe(a, b);
  await subscribe(b, a);
}
