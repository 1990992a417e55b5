/**
 * Messages in a room: groupchat to everyone (XEP-0045 §7.4), subject changes (§8.1), private messages
 * (§7.5), and the dispatch of other messages to the room JID (invitations, voice requests).
 */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import { XmlElement as Element, type XmlElement, xml } from "../../xml/element.ts";
import { handleInvitations } from "./invitations.ts";
import { authorRetraction } from "./moderation.ts";
import { MUC_NS } from "./ns.ts";
import { dropBouncedSession } from "./occupancy.ts";
import type { Occupant } from "./occupant.ts";
import { archivable, fanOut, historyWorthy, newStanzaId, stripRoomPayloads } from "./relay.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";
import { handleVoiceForm } from "./voice.ts";

/** Handles a message to the room's bare JID. */
export async function roomMessage(svc: MucService, ev: StanzaEvent): Promise<true> {
  const type = ev.stanza.attrs.type;
  if (type === "error") {
    await dropBouncedSession(svc, ev);
    return true;
  }
  const room = await svc.getRoom(ev.to.local);
  if (!room || (room.locked && room.sessions.get(ev.from.toString()) === undefined)) {
    throw new StanzaError("cancel", "item-not-found", "No such room");
  }
  if (type === "groupchat") {
    await groupchat(svc, room, ev);
    return true;
  }
  const userX = ev.stanza.getChild("x", MUC_NS.user);
  if (userX && (userX.getChild("invite") || userX.getChild("decline"))) {
    await handleInvitations(svc, room, ev, userX);
    return true;
  }
  if (await handleVoiceForm(svc, room, ev)) return true;
  throw new StanzaError(
    "modify",
    "bad-request",
    "Send groupchat messages to the room, private messages to an occupant",
  );
}

/** §7.4: a groupchat message from an occupant, reflected to everyone with a stanza-id and occupant-id. */
async function groupchat(svc: MucService, room: Room, ev: StanzaEvent): Promise<void> {
  const occupant = room.sessions.get(ev.from.toString());
  if (!occupant) throw new StanzaError("modify", "not-acceptable", "You are not in this room");
  if (!occupant.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are sending messages too fast");
  const { stanza } = ev;
  if (stanza.getChild("subject") && !stanza.getChild("body")) {
    await changeSubject(svc, room, occupant, stanza);
    return;
  }
  // §7.4 / §8.4: visitors of a moderated room have no voice.
  if (occupant.role !== "moderator" && occupant.role !== "participant") {
    throw new StanzaError("auth", "forbidden", "You need voice to speak in this room");
  }
  const retract = stanza.getChild("retract", MUC_NS.retract);
  if (retract) await authorRetraction(svc, room, occupant, retract);
  await broadcastMessage(svc, room, occupant, stanza);
}

/**
 * Reflects a message from an occupant to the whole room: from the occupant's room JID, with the room's stanza-id
 * (archived first, so a MAM query never misses a message a client has seen) and occupant id. Returns the
 * stanza-id.
 */
export async function broadcastMessage(
  svc: MucService,
  room: Room,
  occupant: Occupant,
  stanza: XmlElement,
): Promise<string> {
  const id = newStanzaId();
  const attrs: Record<string, string> = { ...stanza.attrs, type: "groupchat", from: room.nickJid(occupant.nick) };
  delete attrs.to;
  const out = new Element("message", attrs, stripRoomPayloads(room, stanza));
  out.append(xml("stanza-id", { xmlns: MUC_NS.sid, id, by: room.jid }));
  out.append(xml("occupant-id", { xmlns: MUC_NS.occupantId, id: occupant.id }));
  const at = Date.now();
  if (room.config.archiving && archivable(out)) {
    await svc.archive.append(room.name, { id, at, author: occupant.bare, stanza: out });
  }
  if (historyWorthy(out)) {
    room.history.push({ stanza: out, at, id, author: occupant.bare, chars: out.toString().length + 90 });
  }
  await fanOut(svc, room, out);
  return id;
}

/** §8.1: moderators (and participants where the room allows it) change the subject. */
async function changeSubject(svc: MucService, room: Room, occupant: Occupant, stanza: XmlElement): Promise<void> {
  const allowed = occupant.role === "moderator" || (room.config.changeSubject && occupant.role === "participant");
  if (!allowed) throw new StanzaError("auth", "forbidden", "You may not change the subject of this room");
  room.subject = { text: stanza.getChildText("subject") ?? "", by: occupant.nick, at: Date.now() };
  await svc.saveRoom(room);
  const attrs: Record<string, string> = { ...stanza.attrs, type: "groupchat", from: room.nickJid(occupant.nick) };
  delete attrs.to;
  const out = new Element("message", attrs, stripRoomPayloads(room, stanza));
  out.append(xml("occupant-id", { xmlns: MUC_NS.occupantId, id: occupant.id }));
  await fanOut(svc, room, out);
}

/** Who may send private messages (muc#roomconfig_allowpm). */
function mayPrivateMessage(room: Room, sender: Occupant): boolean {
  switch (room.config.allowPm) {
    case "anyone":
      return true;
    case "participants":
      return sender.role === "participant" || sender.role === "moderator";
    case "moderators":
      return sender.role === "moderator";
    case "none":
      return false;
  }
}

/** A message to `room@service/nick`: a private message (§7.5), or a bounce from an occupant. */
export async function occupantMessage(svc: MucService, ev: StanzaEvent): Promise<true> {
  const type = ev.stanza.attrs.type;
  if (type === "error") {
    await dropBouncedSession(svc, ev);
    return true;
  }
  const room = await svc.getRoom(ev.to.local);
  if (!room) throw new StanzaError("cancel", "item-not-found", "No such room");
  const sender = room.sessions.get(ev.from.toString());
  if (!sender) throw new StanzaError("modify", "not-acceptable", "You are not in this room");
  if (type === "groupchat") {
    throw new StanzaError("modify", "bad-request", "Groupchat messages go to the room's bare JID");
  }
  const target = room.occupants.get(ev.to.resource);
  if (!target) throw new StanzaError("cancel", "item-not-found", "No such occupant");
  if (!mayPrivateMessage(room, sender)) {
    throw new StanzaError("cancel", "not-allowed", "Private messages are not allowed in this room");
  }
  if (!sender.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are sending messages too fast");
  const attrs: Record<string, string> = { ...ev.stanza.attrs, from: room.nickJid(sender.nick) };
  delete attrs.to;
  const out = new Element("message", attrs, stripRoomPayloads(room, ev.stanza));
  // §7.5: the muc#user extension tells the recipient's client this is a private message in a room.
  if (!out.getChild("x", MUC_NS.user)) out.append(xml("x", { xmlns: MUC_NS.user }));
  out.append(xml("occupant-id", { xmlns: MUC_NS.occupantId, id: sender.id }));
  await svc.toOccupant(target, out);
  return true;
}
