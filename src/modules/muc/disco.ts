/**
 * Service discovery on the MUC service (XEP-0045 §6): the service's identity and features, the public room
 * directory with XEP-0059 paging, each room's features and XEP-0128 room information form, and §7.12 reserved
 * nicks.
 */
import { createHash } from "node:crypto";
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { dataForm, type FieldSpec } from "../../xmpp/data-forms.ts";
import { NS } from "../../xmpp/ns.ts";
import { roomOf } from "./admin.ts";
import { MUC_NS } from "./ns.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** Features of the service JID itself. */
export function serviceFeatures(): string[] {
  return [NS.discoInfo, NS.discoItems, MUC_NS.muc, MUC_NS.unique, NS.ping];
}

export function serviceInfo(svc: MucService): XmlElement {
  const query = xml(
    "query",
    { xmlns: NS.discoInfo },
    xml("identity", { category: "conference", type: "text", name: svc.settings.name }),
  );
  for (const f of serviceFeatures().sort()) query.append(xml("feature", { var: f }));
  return query;
}

/** Most items a single disco#items page returns, whatever the client asks (XEP-0059 §2.1). */
const MAX_PAGE = 500;

/**
 * §6.3: public rooms, sorted by JID, paged with XEP-0059 when the client asks (`<max/>`, `<after/>`,
 * `<before/>`, `<index/>`), so that clients can list thousands of rooms.
 */
export async function serviceItems(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const query = ev.stanza.firstElement() as XmlElement;
  if (query.attrs.node !== undefined) throw new StanzaError("cancel", "item-not-found", "No such node");
  const rooms = await svc.directory();
  const set = query.getChild("set", MUC_NS.rsm);
  let start = 0;
  let end = Math.min(rooms.length, MAX_PAGE);
  if (set) {
    const maxText = set.getChildText("max");
    const max = maxText !== undefined ? Number(maxText) : MAX_PAGE;
    if (!Number.isInteger(max) || max < 0) throw new StanzaError("modify", "bad-request", "Invalid <max/>");
    const limit = Math.min(max, MAX_PAGE);
    const after = set.getChildText("after");
    const before = set.getChild("before");
    const index = set.getChildText("index");
    if (before !== undefined) {
      // XEP-0059 §2.3: the page that ends just before the given id; an empty <before/> asks for the last page.
      const id = before.text();
      const at = id === "" ? -1 : rooms.findIndex((r) => r.jid >= id);
      end = at < 0 ? rooms.length : at;
      start = Math.max(0, end - limit);
    } else {
      if (after !== undefined) {
        start = rooms.findIndex((r) => r.jid > after);
        if (start < 0) start = rooms.length;
      } else if (index !== undefined) {
        start = Number(index);
        if (!Number.isInteger(start) || start < 0) throw new StanzaError("modify", "bad-request", "Invalid <index/>");
      }
      end = Math.min(rooms.length, start + limit);
    }
  }
  const page = rooms.slice(start, Math.max(start, end));
  const out = xml("query", { xmlns: NS.discoItems });
  for (const r of page) out.append(xml("item", { jid: r.jid, name: r.name }));
  if (set || rooms.length > page.length) {
    const rsm = xml("set", { xmlns: MUC_NS.rsm });
    const firstRoom = page[0];
    const lastRoom = page[page.length - 1];
    if (firstRoom && lastRoom) {
      rsm.append(xml("first", { index: String(start) }, firstRoom.jid), xml("last", null, lastRoom.jid));
    }
    rsm.append(xml("count", null, String(rooms.length)));
    out.append(rsm);
  }
  return out;
}

/** SHA-1 of the room vCard's photo, as XEP-0153 and XEP-0486 hash it; null without a photo. */
export function avatarHash(room: Room): string | null {
  if (!room.avatar) return null;
  const m = /<BINVAL[^>]*>([^<]*)<\/BINVAL>/.exec(room.avatar);
  if (!m?.[1]) return null;
  return createHash("sha1")
    .update(Buffer.from(m[1].replace(/\s+/g, ""), "base64"))
    .digest("hex");
}

/** §6.4 room features, one of each pair of muc_* features (§6.4). */
export function roomFeatures(svc: MucService, room: Room): string[] {
  const c = room.config;
  const features = [
    NS.discoInfo,
    NS.discoItems,
    NS.ping,
    MUC_NS.muc,
    MUC_NS.stableId,
    MUC_NS.selfPing,
    MUC_NS.request,
    MUC_NS.iqRegister,
    MUC_NS.occupantId,
    MUC_NS.sid,
    MUC_NS.moderate,
    MUC_NS.retract,
    MUC_NS.vcard,
    c.persistent ? "muc_persistent" : "muc_temporary",
    c.public ? "muc_public" : "muc_hidden",
    c.membersOnly ? "muc_membersonly" : "muc_open",
    c.moderated ? "muc_moderated" : "muc_unmoderated",
    c.whois === "anyone" ? "muc_nonanonymous" : "muc_semianonymous",
    c.password !== "" ? "muc_passwordprotected" : "muc_unsecured",
  ];
  if (c.archiving && svc.mam) features.push(...svc.mamFeatures);
  return features;
}

/** §6.4: identity, features and the muc#roominfo form (XEP-0128). */
export function roomInfo(svc: MucService, room: Room): XmlElement {
  const query = xml(
    "query",
    { xmlns: NS.discoInfo },
    xml("identity", { category: "conference", type: "text", name: room.config.name || room.name }),
  );
  for (const f of roomFeatures(svc, room).sort()) query.append(xml("feature", { var: f }));
  const c = room.config;
  const fields: FieldSpec[] = [
    { var: "muc#roomconfig_roomname", type: "text-single", label: "Title", values: [c.name] },
    { var: "muc#roominfo_description", type: "text-single", label: "Description", values: [c.description] },
    { var: "muc#roominfo_subject", type: "text-single", label: "Subject", values: [room.subject.text] },
    {
      var: "muc#roominfo_subjectmod",
      type: "boolean",
      label: "Occupants may change the subject",
      values: [c.changeSubject ? "1" : "0"],
    },
    {
      var: "muc#roominfo_occupants",
      type: "text-single",
      label: "Number of occupants",
      values: [String(room.occupants.size)],
    },
    { var: "muc#roomconfig_allowpm", type: "list-single", label: "Who may send private messages", values: [c.allowPm] },
    { var: "muc#maxhistoryfetch", type: "text-single", label: "History length", values: [String(c.historyLength)] },
  ];
  if (c.language)
    fields.push({ var: "muc#roominfo_lang", type: "text-single", label: "Language", values: [c.language] });
  const hash = avatarHash(room);
  // XEP-0486 §3: clients learn the room avatar's hash from disco#info.
  if (hash) fields.push({ var: "muc#roominfo_avatarhash", type: "text-multi", label: "Avatar hash", values: [hash] });
  query.append(dataForm("result", { formType: MUC_NS.roominfo, fields }));
  return query;
}

/** disco#info to a room (§6.4), or to its `x-roomuser-item` node for one's reserved nick (§7.12). */
export async function roomInfoHandler(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const node = (ev.stanza.firstElement() as XmlElement).attrs.node;
  if (node === "x-roomuser-item") {
    const nick = room.reservedNick(ev.from.bareString);
    return xml(
      "query",
      { xmlns: NS.discoInfo, node },
      nick !== null ? xml("identity", { category: "conference", type: "text", name: nick }) : undefined,
    );
  }
  if (node !== undefined) throw new StanzaError("cancel", "item-not-found", "No such node");
  return roomInfo(svc, room);
}

/**
 * §6.5: disco#items to a room. Listing occupants would reveal who is present to anyone; occupants already
 * know, so the list is empty.
 */
export async function roomItemsHandler(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  await roomOf(svc, ev);
  return xml("query", { xmlns: NS.discoItems });
}
