/**
 * Presence addressed to an occupant JID (`room@service/nick`, XEP-0045 §7.2 entering, §7.6 nick changes,
 * §7.7 status changes, §7.14 exiting), and presence bounces from occupants.
 */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import { delayElement } from "../../core/stanza.ts";
import { XmlElement as Element, type XmlElement, xml } from "../../xml/element.ts";
import { meansOccupantGone, presenceError } from "./errors.ts";
import { type HistoryRequest, parseHistoryRequest } from "./history.ts";
import { MUC_NS, STATUS } from "./ns.ts";
import { Occupant } from "./occupant.ts";
import { cleanPresence, leaveBase, roomPresence } from "./presence.ts";
import { affiliationRank, defaultRole } from "./roles.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** Handles presence to `room@service/nick`. Always takes the stanza. */
export async function occupantPresence(svc: MucService, ev: StanzaEvent): Promise<true> {
  const type = ev.stanza.attrs.type;
  if (type === "error") {
    await presenceBounce(svc, ev);
    return true;
  }
  if (type === "unavailable") {
    await leave(svc, ev);
    return true;
  }
  // Probes and subscription requests mean nothing to a room.
  if (type !== undefined) return true;
  try {
    const room = await svc.getRoom(ev.to.local);
    const occupant = room?.sessions.get(ev.from.toString());
    if (room && occupant) {
      if (occupant.nick !== ev.to.resource) await changeNick(svc, room, occupant, ev);
      else if (ev.stanza.getChild("x", MUC_NS.muc)) await rejoin(svc, room, occupant, ev);
      else await updatePresence(svc, room, occupant, ev);
    } else {
      await join(svc, room, ev);
    }
  } catch (err) {
    if (!(err instanceof StanzaError)) throw err;
    const reply = presenceError(ev.stanza, err);
    if (reply) await svc.ctx.send(reply);
  }
  return true;
}

/** Presence to the bare room JID (§7.2: entering needs a nick). */
export async function barePresence(svc: MucService, ev: StanzaEvent): Promise<true> {
  const type = ev.stanza.attrs.type;
  if (type === undefined) {
    const reply = presenceError(
      ev.stanza,
      new StanzaError("modify", "jid-malformed", "Enter the room as room@service/nick"),
    );
    if (reply) await svc.ctx.send(reply);
  }
  return true;
}

function checkNick(nick: string): void {
  // §7.2 / §7.6: a nick must not be empty or consist only of spaces (the router already applied the
  // resourcepart rules of RFC 7622).
  if (nick.trim() === "") throw new StanzaError("modify", "jid-malformed", "The nickname is empty");
}

/** §7.2: entering a room, creating it first if needed (§10.1.1). */
async function join(svc: MucService, existing: Room | undefined, ev: StanzaEvent): Promise<void> {
  const { stanza } = ev;
  const from = ev.from.toString();
  const bare = ev.from.bareString;
  const nick = ev.to.resource;
  checkNick(nick);
  const mucX = stanza.getChild("x", MUC_NS.muc);

  let room = existing;
  let created = false;
  if (!room) {
    if (!svc.mayCreate(ev.from))
      throw new StanzaError("cancel", "not-allowed", "You may not create rooms on this service");
    // §10.1.1: a client that does not speak MUC (no <x/>) gets an instant room, as with the old groupchat 1.0.
    ({ room, created } = svc.createRoom(ev.to.local, bare, mucX === undefined));
  }
  const affiliation = room.affiliationOf(bare);
  const sameNick = room.occupants.get(nick);
  if (!created) {
    // §7.2.11 locked room, §7.2.8 banned, §7.2.7 members-only, §7.2.9 nick conflict, §7.2.10 full, §7.2.6 password.
    if (room.locked && affiliation !== "owner") {
      throw new StanzaError("cancel", "item-not-found", "The room is locked until its owner configures it");
    }
    if (affiliation === "outcast") throw new StanzaError("auth", "forbidden", "You are banned from this room");
    if (room.config.membersOnly && affiliation === "none") {
      throw new StanzaError("auth", "registration-required", "This room is for members only");
    }
    if (sameNick && sameNick.bare !== bare) throw new StanzaError("cancel", "conflict", "That nickname is in use");
    const reservedBy = room.nickReservedBy(nick);
    if (reservedBy !== undefined && reservedBy !== bare) {
      throw new StanzaError("cancel", "conflict", "That nickname is reserved by another user");
    }
    if (
      !sameNick &&
      room.occupants.size >= room.config.maxUsers &&
      affiliationRank(affiliation) < affiliationRank("admin")
    ) {
      throw new StanzaError("wait", "service-unavailable", "The room is full");
    }
    if (room.config.password !== "" && mucX?.getChildText("password") !== room.config.password) {
      throw new StanzaError("auth", "not-authorized", "A password is required to enter this room");
    }
  }

  // Decided: change the state before anything is sent, so that concurrent stanzas see the new occupant.
  const presence = cleanPresence(stanza);
  let occupant: Occupant;
  if (sameNick) {
    occupant = sameNick;
    occupant.setSession(from, presence);
  } else {
    occupant = new Occupant(
      nick,
      bare,
      defaultRole(affiliation, room.config.moderated),
      room.occupantId(bare),
      { jid: from, presence },
      svc.settings.rate,
    );
    room.occupants.set(nick, occupant);
  }
  room.sessions.set(from, occupant);
  await sendJoinSequence(svc, room, occupant, {
    from,
    presence,
    history: parseHistoryRequest(mucX?.getChild("history")),
    created,
  });
}

/**
 * A joined session sends MUC presence again (a client that lost track, e.g. after a XEP-0410 self-ping said it
 * is still joined or a stream resumption): it gets the whole join sequence again, the room only a presence update.
 */
async function rejoin(svc: MucService, room: Room, occupant: Occupant, ev: StanzaEvent): Promise<void> {
  const from = ev.from.toString();
  const presence = cleanPresence(ev.stanza);
  occupant.setSession(from, presence);
  const mucX = ev.stanza.getChild("x", MUC_NS.muc);
  await sendJoinSequence(svc, room, occupant, {
    from,
    presence,
    history: parseHistoryRequest(mucX?.getChild("history")),
    created: false,
  });
}

/** A session entering a room, or entering again. */
interface Entry {
  from: string;
  presence: XmlElement;
  history: HistoryRequest;
  /** The session created the room (status 201). */
  created: boolean;
}

/**
 * §7.2.3 to one session of an occupant: first the occupants already there, then its presence to everyone (itself
 * last), then history and subject. Until it is done, the session is `joining`.
 */
async function sendJoinSequence(
  svc: MucService,
  room: Room,
  occupant: Occupant,
  { from, presence, history, created }: Entry,
): Promise<void> {
  occupant.joining.add(from);
  const mark = room.history.mark;
  const selfCodes: string[] = [];
  if (room.config.whois === "anyone") selfCodes.push(STATUS.nonAnonymous);
  if (room.config.archiving) selfCodes.push(STATUS.logging);
  if (created) selfCodes.push(STATUS.created);
  try {
    await sendOccupantList(svc, room, occupant, from);
    await svc.broadcastPresence(room, occupant, {
      base: presence,
      item: svc.item(room, occupant),
      selfCodes,
      realJid: from,
    });
    await sendHistoryAndSubject(svc, room, occupant, from, history, mark);
  } finally {
    occupant.joining.delete(from);
  }
}

/** §7.2.3: the presence of every other occupant, to one joining session (or a new moderator, see actions.ts). */
export async function sendOccupantList(svc: MucService, room: Room, viewer: Occupant, to: string): Promise<void> {
  const showJids = room.showsJidsTo(viewer);
  for (const other of [...room.occupants.values()]) {
    if (other === viewer || !room.config.presenceBroadcast.includes(other.role)) continue;
    const p = roomPresence({
      from: room.nickJid(other.nick),
      base: other.presence,
      occupantId: other.id,
      item: { ...svc.item(room, other), jid: showJids ? other.primary : undefined },
    });
    await svc.deliver(p, to);
  }
}

/**
 * §7.2.14 discussion history (with XEP-0203 delay), then §7.2.16 the subject, which ends the join sequence.
 * History is what the room had when the session joined (`mark`); what came since skipped the session and
 * follows the subject as live messages.
 */
async function sendHistoryAndSubject(
  svc: MucService,
  room: Room,
  occupant: Occupant,
  to: string,
  req: HistoryRequest,
  mark: number,
): Promise<void> {
  for (const entry of room.history.select(req)) {
    if ((entry.seq ?? 0) > mark) break;
    const m = new Element("message", { ...entry.stanza.attrs }, [
      ...entry.stanza.children,
      delayElement(room.jid, new Date(entry.at)),
    ]);
    await svc.deliver(m, to);
  }
  await svc.deliver(subjectMessage(room), to);
  // Messages that arrived while this session was being sent the above skipped it: send them now, live.
  for (const entry of room.history.after(mark)) {
    if (room.sessions.get(to) !== occupant) break;
    await svc.deliver(entry.stanza, to);
  }
}

/** §7.2.16: the subject message, sent even when there is no subject (then empty), never with a body. */
export function subjectMessage(room: Room): XmlElement {
  const from = room.subject.by !== null ? room.nickJid(room.subject.by) : room.jid;
  return xml(
    "message",
    { type: "groupchat", from, id: `subject-${room.subject.at ?? 0}` },
    xml("subject", null, room.subject.text),
  );
}

/** §7.7: a status change from a joined session. */
async function updatePresence(svc: MucService, room: Room, occupant: Occupant, ev: StanzaEvent): Promise<void> {
  if (!occupant.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are changing presence too fast");
  const from = ev.from.toString();
  occupant.setSession(from, cleanPresence(ev.stanza));
  await svc.broadcastPresence(room, occupant, { base: occupant.presence, item: svc.item(room, occupant) });
}

/** §7.6: changing nickname: unavailable with 303 from the old nick, then available from the new one. */
async function changeNick(svc: MucService, room: Room, occupant: Occupant, ev: StanzaEvent): Promise<void> {
  const newNick = ev.to.resource;
  checkNick(newNick);
  if (occupant.sessions.size > 1) {
    throw new StanzaError("cancel", "not-acceptable", "Leave from your other devices before changing nickname");
  }
  if (room.occupants.has(newNick)) throw new StanzaError("cancel", "conflict", "That nickname is in use");
  const reservedBy = room.nickReservedBy(newNick);
  if (reservedBy !== undefined && reservedBy !== occupant.bare) {
    throw new StanzaError("cancel", "conflict", "That nickname is reserved by another user");
  }
  if (!occupant.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are changing nickname too fast");

  const oldNick = occupant.nick;
  room.occupants.delete(oldNick);
  occupant.nick = newNick;
  room.occupants.set(newNick, occupant);
  occupant.setSession(ev.from.toString(), cleanPresence(ev.stanza));
  const item = svc.item(room, occupant);
  await svc.broadcastPresence(room, occupant, {
    nick: oldNick,
    unavailable: true,
    base: null,
    item: { ...item, nick: newNick },
    codes: [STATUS.nickChanged],
  });
  await svc.broadcastPresence(room, occupant, { base: occupant.presence, item });
}

/** §7.14: a session leaves. The occupant leaves with its last session; until then the room sees the others. */
async function leave(svc: MucService, ev: StanzaEvent): Promise<void> {
  // Only rooms in memory can have occupants: nothing to load.
  const room = svc.rooms.get(ev.to.local);
  const from = ev.from.toString();
  const occupant = room?.sessions.get(from);
  if (!room || !occupant) return;
  await removeSession(svc, room, occupant, from, leaveBase(ev.stanza), []);
}

/**
 * Takes one session out of the room: alone if the occupant has others (which the room then shows), else the
 * occupant leaves with `codes` (333 for a bounce).
 */
export async function removeSession(
  svc: MucService,
  room: Room,
  occupant: Occupant,
  jid: string,
  base: XmlElement | null,
  codes: string[],
): Promise<void> {
  room.sessions.delete(jid);
  const primaryBefore = occupant.primary;
  const item = svc.item(room, occupant);
  if (occupant.removeSession(jid)) {
    const self = roomPresence({
      from: room.nickJid(occupant.nick),
      unavailable: true,
      base,
      occupantId: occupant.id,
      item: { ...item, role: "none", jid },
      codes: [...codes, STATUS.self],
    });
    await svc.deliver(self, jid);
    if (occupant.primary !== primaryBefore) {
      await svc.broadcastPresence(room, occupant, { base: occupant.presence, item, selfSessions: [] });
    }
    return;
  }
  room.occupants.delete(occupant.nick);
  occupant.role = "none";
  await svc.broadcastPresence(room, occupant, {
    unavailable: true,
    base,
    item: { ...item, role: "none" },
    codes,
    realJid: jid,
    broadcastRole: item.role,
    selfSessions: [jid],
  });
  svc.dropIfEmpty(room);
}

/** An occupant's server bounced presence we sent: the session is gone (333). */
async function presenceBounce(svc: MucService, ev: StanzaEvent): Promise<void> {
  await dropBouncedSession(svc, ev);
}

/** Removes the session a delivery error came from, if it is an occupant and the error means it is gone. */
export async function dropBouncedSession(svc: MucService, ev: StanzaEvent): Promise<void> {
  if (!meansOccupantGone(ev.stanza)) return;
  const room = svc.rooms.get(ev.to.local);
  const from = ev.from.toString();
  const occupant = room?.sessions.get(from);
  if (!room || !occupant) return;
  await removeSession(svc, room, occupant, from, null, [STATUS.error]);
}
