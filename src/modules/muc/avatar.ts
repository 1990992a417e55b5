/**
 * Room avatars the vCard way (XEP-0054 on the room JID, hash announced as in XEP-0153 and XEP-0486). Occupant
 * avatars need nothing from the room: their presence carries the hash and vCard requests are forwarded to the
 * occupant's account (iq-forward.ts).
 */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { actorOf, roomOf } from "./admin.ts";
import { parseArchived } from "./archive.ts";
import { avatarHash } from "./disco.ts";
import { MUC_NS } from "./ns.ts";
import type { MucService } from "./service.ts";

/** XEP-0054 get on the room: its vCard, empty when none was set. */
export async function roomVcardGet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const stored = room.avatar !== null ? parseArchived(room.avatar) : null;
  return stored ?? xml("vCard", { xmlns: MUC_NS.vcard });
}

/** XEP-0054 set on the room, by an owner; occupants learn the new avatar hash from the room's presence. */
export async function roomVcardSet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  if (actorOf(room, ev).affiliation !== "owner") {
    throw new StanzaError("auth", "forbidden", "Only owners may change the room's vCard");
  }
  const vcard = ev.stanza.firstElement() as XmlElement;
  room.avatar = vcard.elements().length > 0 ? vcard.toString() : null;
  await svc.saveRoom(room);
  const hash = avatarHash(room);
  const presence = xml(
    "presence",
    { from: room.jid },
    xml("x", { xmlns: MUC_NS.vcardUpdate }, hash ? xml("photo", null, hash) : xml("photo")),
  );
  await svc.toRoom(room, presence);
  return null;
}
