/**
 * Taking messages back: retraction by their author (XEP-0424, v0.4 `urn:xmpp:message-retract:1`) and by a
 * moderator (XEP-0425 v0.3 `urn:xmpp:message-moderate:1`, plus the v0.2 `apply-to` form older clients send).
 * Both replace the message in the archive and in the join history with a tombstone.
 */
import { randomBytes } from "node:crypto";
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { XmlElement as Element, type XmlElement, xml } from "../../xml/element.ts";
import { actorOf, roomOf } from "./admin.ts";
import { MUC_NS } from "./ns.ts";
import type { Occupant } from "./occupant.ts";
import { archivable, fanOut, newStanzaId } from "./relay.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** XEP-0422 fastening and the v0 namespaces of XEP-0424/0425, still sent by some clients. */
export const LEGACY_NS = {
  fasten: "urn:xmpp:fasten:0",
  moderate0: "urn:xmpp:message-moderate:0",
  retract0: "urn:xmpp:message-retract:0",
} as const;

const SID_ORIGIN = "origin-id";

/** A message the room relayed, found by its stanza-id in the join history or the archive. */
async function findMessage(
  svc: MucService,
  room: Room,
  id: string,
): Promise<{ stanza: XmlElement; author: string } | null> {
  const recent = room.history.find(id);
  if (recent) return { stanza: recent.stanza, author: recent.author };
  return svc.archive.get(room.name, id);
}

/**
 * XEP-0424 §5 / XEP-0425 §5 tombstone: the message keeps its addresses, ids and occupant id; its content
 * gives way to `<retracted/>`.
 */
function tombstone(original: XmlElement, retracted: XmlElement): XmlElement {
  const keep = original.children.filter(
    (c) =>
      typeof c !== "string" &&
      ((c.attrs.xmlns === MUC_NS.sid && (c.name === "stanza-id" || c.name === SID_ORIGIN)) ||
        (c.name === "occupant-id" && c.attrs.xmlns === MUC_NS.occupantId)),
  );
  return new Element("message", { ...original.attrs }, [...keep, retracted]);
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Puts a tombstone in place of a message in the history and the archive. */
async function bury(svc: MucService, room: Room, id: string, original: XmlElement, retracted: XmlElement) {
  const grave = tombstone(original, retracted);
  room.history.replace(id, grave);
  await svc.archive.replace(room.name, id, grave);
}

/**
 * XEP-0424 in a room: an occupant's groupchat `<retract id='stanza-id'/>`. The room checks the author (same real
 * bare JID) when it still knows the message, and buries it; the retraction itself is then relayed as usual.
 */
export async function authorRetraction(
  svc: MucService,
  room: Room,
  occupant: Occupant,
  retract: XmlElement,
): Promise<void> {
  const id = retract.attrs.id;
  if (!id) throw new StanzaError("modify", "bad-request", "A retraction names the stanza-id of the message");
  const found = await findMessage(svc, room, id);
  if (!found) return;
  if (found.author !== occupant.bare) {
    throw new StanzaError("auth", "forbidden", "You may only retract your own messages");
  }
  await bury(svc, room, id, found.stanza, xml("retracted", { xmlns: MUC_NS.retract, stamp: stamp() }));
}

/** XEP-0425: a moderator asks the room to retract someone's message. */
export async function moderate(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const payload = ev.stanza.firstElement() as XmlElement;
  // v0.3: <moderate id='…' xmlns='urn:xmpp:message-moderate:1'><retract xmlns='…retract:1'/><reason/></moderate>
  // v0.2: <apply-to id='…' xmlns='urn:xmpp:fasten:0'><moderate xmlns='…moderate:0'><retract xmlns='…retract:0'/>
  const legacy = payload.attrs.xmlns === LEGACY_NS.fasten;
  const moderateEl = legacy ? payload.getChild("moderate", LEGACY_NS.moderate0) : payload;
  const id = payload.attrs.id;
  if (!moderateEl || !id) throw new StanzaError("modify", "bad-request", "Say which message to moderate");
  if (!moderateEl.getChild("retract", legacy ? LEGACY_NS.retract0 : MUC_NS.retract)) {
    throw new StanzaError("cancel", "feature-not-implemented", "Only retraction is supported");
  }
  const actor = actorOf(room, ev);
  if (actor.role !== "moderator" || !actor.occupant) {
    throw new StanzaError("auth", "forbidden", "Only moderators may moderate messages");
  }
  const found = await findMessage(svc, room, id);
  if (!found) throw new StanzaError("cancel", "item-not-found", "No such message in this room");
  const reason = moderateEl.getChildText("reason");
  const by = room.nickJid(actor.occupant.nick);
  const moderatorId = xml("occupant-id", { xmlns: MUC_NS.occupantId, id: actor.occupant.id });
  const reasonEl = reason ? xml("reason", null, reason) : undefined;

  await bury(
    svc,
    room,
    id,
    found.stanza,
    xml(
      "retracted",
      { xmlns: MUC_NS.retract, stamp: stamp() },
      xml("moderated", { xmlns: MUC_NS.moderate, by }, moderatorId),
      reasonEl,
    ),
  );

  // One announcement both generations of clients understand: the v0.3 <retract/> and the v0.2 <apply-to/>.
  const announceId = newStanzaId();
  const announcement = xml(
    "message",
    { type: "groupchat", from: room.jid, id: randomBytes(8).toString("hex") },
    xml(
      "retract",
      { xmlns: MUC_NS.retract, id },
      xml("moderated", { xmlns: MUC_NS.moderate, by }, moderatorId),
      reasonEl,
    ),
    xml(
      "apply-to",
      { xmlns: LEGACY_NS.fasten, id },
      xml("moderated", { xmlns: LEGACY_NS.moderate0, by }, xml("retract", { xmlns: LEGACY_NS.retract0 }), reasonEl),
    ),
    xml("stanza-id", { xmlns: MUC_NS.sid, id: announceId, by: room.jid }),
  );
  // Archived, so that clients catching up through MAM learn about it too.
  if (room.config.archiving && archivable(announcement)) {
    await svc.archive.append(room.name, { id: announceId, at: Date.now(), author: room.jid, stanza: announcement });
  }
  await fanOut(svc, room, announcement);
  return null;
}
