/** Roster items on the wire (RFC 6121 §2.1): encoding for results and pushes, decoding and checking roster sets. */
import { StanzaError } from "../../core/errors.ts";
import { tryParseJid } from "../../jid/jid.ts";
import type { RosterItem } from "../../storage/types.ts";
import { type XmlElement, xml } from "../../xml/element.ts";

/** Longest item name and group name accepted (RFC 6121 §2.3.3 leaves the limit to the server). */
export const MAX_NAME_LENGTH = 1023;

/** A roster item as a client sees it. The pending-in flag and stored request stay private (RFC 6121 §2.1.2). */
export function itemElement(item: RosterItem): XmlElement {
  return xml(
    "item",
    {
      jid: item.jid,
      name: item.name ?? undefined,
      subscription: item.subscription,
      ask: item.askOut ? "subscribe" : undefined, // §2.1.2.2
      approved: item.approved ? "true" : undefined, // §2.1.2.1 (pre-approval, §3.4)
    },
    ...item.groups.map((g) => xml("group", null, g)),
  );
}

/** The item of a removal push (RFC 6121 §2.5.2). */
export function removedItemElement(jid: string): XmlElement {
  return xml("item", { jid, subscription: "remove" });
}

/** True if two items look the same to a client (what decides whether a push is needed). */
export function sameForClient(a: RosterItem, b: RosterItem): boolean {
  return (
    a.name === b.name &&
    a.subscription === b.subscription &&
    a.askOut === b.askOut &&
    a.approved === b.approved &&
    a.groups.length === b.groups.length &&
    a.groups.every((g, i) => g === b.groups[i])
  );
}

/** A decoded roster set: add/update an item, or remove it. */
export type RosterSet =
  | { kind: "update"; jid: string; name: string | null; groups: string[] }
  | { kind: "remove"; jid: string };

/** Decodes and checks the `<query/>` of a roster set (RFC 6121 §2.3.3, §2.4.3, §2.5.3). Throws StanzaError. */
export function parseRosterSet(query: XmlElement): RosterSet {
  const items = query.elements();
  // §2.3.3: exactly one <item/>.
  if (items.length !== 1 || items[0]?.name !== "item") {
    throw new StanzaError("modify", "bad-request", "A roster set must contain exactly one item");
  }
  const item = items[0];
  const jidAttr = item.attrs.jid;
  if (!jidAttr) throw new StanzaError("modify", "bad-request", "The item has no 'jid'");
  const jid = tryParseJid(jidAttr);
  if (!jid) throw new StanzaError("modify", "jid-malformed", "The item's 'jid' is not a valid JID");
  if (!jid.isBare) throw new StanzaError("modify", "bad-request", "Roster items are bare JIDs");
  // §2.1.2.5: in a roster set the server ignores every 'subscription' value except "remove" (and 'ask' entirely).
  if (item.attrs.subscription === "remove") return { kind: "remove", jid: jid.toString() };

  const name = item.attrs.name ?? "";
  if (name.length > MAX_NAME_LENGTH) throw new StanzaError("modify", "not-acceptable", "The item name is too long");
  // A Set: a stanza can carry thousands of groups, and a list search per group was quadratic.
  const groups = new Set<string>();
  for (const g of item.getChildren("group")) {
    const text = g.text();
    // §2.3.3: an empty group is not-acceptable, a repeated one bad-request.
    if (text === "") throw new StanzaError("modify", "not-acceptable", "Empty group name");
    if (text.length > MAX_NAME_LENGTH) throw new StanzaError("modify", "not-acceptable", "Group name too long");
    if (groups.has(text)) throw new StanzaError("modify", "bad-request", `Duplicate group '${text}'`);
    groups.add(text);
  }
  return { kind: "update", jid: jid.toString(), name: name === "" ? null : name, groups: [...groups] };
}
