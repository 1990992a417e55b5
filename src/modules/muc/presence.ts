/** Presence the room sends about occupants (XEP-0045 §7.2.3, §7.6, §7.14, §8, §9, §10.9). */
import { type XmlElement, xml } from "../../xml/element.ts";
import { MUC_NS } from "./ns.ts";
import type { Affiliation, Role } from "./roles.ts";

/** Payloads the room adds itself and so never takes from a client's presence. */
function isRoomPayload(el: XmlElement): boolean {
  const ns = el.attrs.xmlns;
  return (
    (el.name === "x" && (ns === MUC_NS.muc || ns === MUC_NS.user)) ||
    (el.name === "occupant-id" && ns === MUC_NS.occupantId)
  );
}

/**
 * The part of a client's presence the room passes on: show, status, priority, caps, avatar hash and other
 * extensions, without addresses, id, type or MUC payloads.
 */
export function cleanPresence(stanza: XmlElement): XmlElement {
  const p = xml("presence");
  for (const c of stanza.children) if (typeof c !== "string" && !isRoomPayload(c)) p.children.push(c.clone());
  return p;
}

/** The `<item/>` of muc#user presence (the muc#user schema). */
export interface ItemInfo {
  affiliation: Affiliation;
  role: Role;
  /** Real full JID, only when the recipient may see it. */
  jid?: string;
  /** New nick of a nick change (§7.6). */
  nick?: string;
  /** Nick of the moderator who caused a role or affiliation change (§8.2). */
  actor?: string;
  reason?: string;
}

export function itemElement(item: ItemInfo): XmlElement {
  return xml(
    "item",
    { affiliation: item.affiliation, role: item.role, jid: item.jid, nick: item.nick },
    item.actor !== undefined ? xml("actor", { nick: item.actor }) : undefined,
    item.reason ? xml("reason", null, item.reason) : undefined,
  );
}

/**
 * Presence from an occupant's room JID: the occupant's own payloads (`base`, or none), the XEP-0421 occupant
 * id, and the muc#user extension with the item, status codes and extra children (e.g. `<destroy/>`).
 */
export function roomPresence(opts: {
  from: string;
  unavailable?: boolean;
  base: XmlElement | null;
  occupantId: string;
  item: ItemInfo;
  codes?: string[];
  extra?: XmlElement[];
}): XmlElement {
  const p = xml("presence", { from: opts.from, type: opts.unavailable ? "unavailable" : undefined });
  if (opts.base) for (const c of opts.base.children) if (typeof c !== "string") p.children.push(c);
  p.append(xml("occupant-id", { xmlns: MUC_NS.occupantId, id: opts.occupantId }));
  p.append(
    xml(
      "x",
      { xmlns: MUC_NS.user },
      itemElement(opts.item),
      ...(opts.extra ?? []),
      ...(opts.codes ?? []).map((code) => xml("status", { code })),
    ),
  );
  return p;
}

/** Only the status text of an unavailable presence goes to the room (§7.14). */
export function leaveBase(stanza: XmlElement): XmlElement {
  const p = xml("presence");
  for (const s of stanza.getChildren("status")) p.children.push(s.clone());
  return p;
}
