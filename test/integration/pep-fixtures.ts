/** Conversation helpers for the PEP, bookmarks, avatar and vCard integration tests. */
import { randomBytes } from "node:crypto";
import { capsVer } from "../../src/modules/caps.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";

export const PUBSUB = "http://jabber.org/protocol/pubsub";
export const PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner";
export const PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event";
export const PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors";

const CAPS_NODE = "https://hearth.test/client";

/** The disco#info a test client claims: a client identity and the given features. */
function clientInfo(features: string[]): XmlElement {
  return xml(
    "query",
    { xmlns: NS.discoInfo },
    xml("identity", { category: "client", type: "pc", name: "hearth-test" }),
    ...[NS.discoInfo, ...features].map((f) => xml("feature", { var: f })),
  );
}

/**
 * Makes a client behave like a real one with entity capabilities (XEP-0115): it sends available presence carrying
 * `<c/>` for the given features, answers the server's disco#info query about it, and returns once the server has the
 * answer. A feature unique to this call makes the `ver` new, so the server always asks. Returns the presence, to be
 * sent again later with the same caps.
 */
export async function sendCaps(client: TestClient, features: string[], extra: XmlElement[] = []): Promise<XmlElement> {
  const info = clientInfo([...features, `urn:hearth:test:${randomBytes(6).toString("hex")}`]);
  const presence = xml(
    "presence",
    null,
    xml("c", { xmlns: NS.caps, hash: "sha-1", node: CAPS_NODE, ver: capsVer(info) }),
    ...extra,
  );
  client.send(presence);
  const iq = await client.expect(
    (el) => el.name === "iq" && el.attrs.type === "get" && el.getChild("query", NS.discoInfo) !== undefined,
  );
  const answer = info.clone();
  answer.setAttr("node", iq.getChild("query", NS.discoInfo)?.attrs.node);
  client.send(xml("iq", { type: "result", id: iq.attrs.id, to: iq.attrs.from }, answer));
  // The server handles a session's stanzas in order: once the ping is answered, so is the disco result.
  const domain = client.bare.slice(client.bare.indexOf("@") + 1);
  await client.iq(xml("iq", { type: "get", to: domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  return presence;
}

/** `<node>+notify` for each node. */
export function notify(...nodes: string[]): string[] {
  return nodes.map((n) => `${n}+notify`);
}

/** A publish-options form. */
export function publishOptions(fields: Record<string, string>): XmlElement {
  return xml(
    "publish-options",
    null,
    xml(
      "x",
      { xmlns: NS.dataForms, type: "submit" },
      xml(
        "field",
        { var: "FORM_TYPE", type: "hidden" },
        xml("value", null, "http://jabber.org/protocol/pubsub#publish-options"),
      ),
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", null, v))),
    ),
  );
}

/** Publishes one item (to the client's own PEP service unless `to` is given); returns the iq answer. */
export function publish(
  c: TestClient,
  node: string,
  payload: XmlElement,
  opts: { id?: string; options?: Record<string, string>; to?: string } = {},
): Promise<XmlElement> {
  return c.iq(
    xml(
      "iq",
      { type: "set", to: opts.to },
      xml(
        "pubsub",
        { xmlns: PUBSUB },
        xml("publish", { node }, xml("item", { id: opts.id }, payload)),
        opts.options ? publishOptions(opts.options) : undefined,
      ),
    ),
  );
}

/** Retrieves items of a node at `to` (default: own account). */
export function getItems(
  c: TestClient,
  node: string,
  opts: { to?: string; max?: number; ids?: string[] } = {},
): Promise<XmlElement> {
  return c.iq(
    xml(
      "iq",
      { type: "get", to: opts.to },
      xml(
        "pubsub",
        { xmlns: PUBSUB },
        xml(
          "items",
          { node, max_items: opts.max === undefined ? undefined : String(opts.max) },
          ...(opts.ids ?? []).map((id) => xml("item", { id })),
        ),
      ),
    ),
  );
}

/** The items of an items result or an event. */
export function itemsOf(el: XmlElement): XmlElement[] {
  const container = el.getChild("pubsub", PUBSUB) ?? el.getChild("event", PUBSUB_EVENT);
  return container?.getChild("items")?.getChildren("item") ?? [];
}

/** Ids of the items of a result or event. */
export function itemIds(el: XmlElement): string[] {
  return itemsOf(el).map((i) => i.attrs.id ?? "");
}

/** An owner request (`pubsub#owner`). */
export function owner(c: TestClient, type: "get" | "set", child: XmlElement): Promise<XmlElement> {
  return c.iq(xml("iq", { type }, xml("pubsub", { xmlns: PUBSUB_OWNER }, child)));
}

/** A node_config submit form. */
export function configForm(fields: Record<string, string | string[]>): XmlElement {
  return xml(
    "x",
    { xmlns: NS.dataForms, type: "submit" },
    xml(
      "field",
      { var: "FORM_TYPE", type: "hidden" },
      xml("value", null, "http://jabber.org/protocol/pubsub#node_config"),
    ),
    ...Object.entries(fields).map(([k, v]) =>
      xml("field", { var: k }, ...(Array.isArray(v) ? v : [v]).map((x) => xml("value", null, x))),
    ),
  );
}

/** Matches a PEP event message about `node` (optionally from `from`). */
export function event(node: string, from?: string): (el: XmlElement) => boolean {
  return (el) =>
    el.name === "message" &&
    (from === undefined || el.attrs.from === from) &&
    el.getChild("event", PUBSUB_EVENT)?.elements()[0]?.attrs.node === node;
}

/** The pubsub-specific error condition of an error reply. */
export function pubsubCondition(el: XmlElement): string | undefined {
  return el
    .getChild("error")
    ?.elements()
    .find((c) => c.attrs.xmlns === PUBSUB_ERRORS)?.name;
}

/** The value of a field in a data form. */
export function fieldValue(form: XmlElement | undefined, name: string): string | undefined {
  return form
    ?.getChildren("field")
    .find((f) => f.attrs.var === name)
    ?.getChildText("value");
}
