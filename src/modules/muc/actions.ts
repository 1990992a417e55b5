/**
 * Role and affiliation changes once they are allowed (XEP-0045 §8 moderator and §9/§10 admin and owner use
 * cases, invitations, voice requests): update the room, persist, and tell the room.
 */
import { STATUS } from "./ns.ts";
import { sendOccupantList } from "./occupancy.ts";
import type { Occupant } from "./occupant.ts";
import { type Affiliation, defaultRole, type Role } from "./roles.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

export interface ChangeContext {
  /** Nick of the moderator who made the change (`<actor nick/>`, §8.2), if any. */
  actor?: string;
  reason?: string;
}

/** §8.2 kick (role none, status 307), §8.3/§8.4 voice, §9.6/§9.7 moderator status. */
export async function applyRole(
  svc: MucService,
  room: Room,
  target: Occupant,
  role: Role,
  why: ChangeContext,
): Promise<void> {
  if (role === "none") {
    await svc.removeOccupant(room, target, { codes: [STATUS.kicked], actor: why.actor, reason: why.reason });
    return;
  }
  if (target.role === role) return;
  const before = target.role;
  target.role = role;
  await svc.broadcastPresence(room, target, {
    base: target.presence,
    item: { ...svc.item(room, target), actor: why.actor, reason: why.reason },
  });
  await revealJidsIfModerator(svc, room, target, before);
}

/**
 * A new moderator of a semi-anonymous room may now see real JIDs (§4.1): it gets everyone's presence again, with
 * them.
 */
async function revealJidsIfModerator(svc: MucService, room: Room, occupant: Occupant, before: Role): Promise<void> {
  if (before === "moderator" || occupant.role !== "moderator" || room.config.whois === "anyone") return;
  for (const jid of [...occupant.sessions.keys()]) await sendOccupantList(svc, room, occupant, jid);
}

/** The occupants an affiliation entry covers: a bare JID's, or everyone from a banned domain. */
function covered(room: Room, jid: string): Occupant[] {
  if (jid.includes("@")) return room.occupantsOf(jid);
  return [...room.occupants.values()].filter((o) => o.bare.slice(o.bare.indexOf("@") + 1) === jid);
}

/**
 * Sets an affiliation (§9.1 ban 301, §9.3/§9.4 membership, §10.3-§10.7 owners and admins) and updates the
 * occupants it concerns: banned ones and, in a members-only room, ones that lost membership (321) leave; the
 * others get the default role of their new affiliation.
 */
export async function applyAffiliation(
  svc: MucService,
  room: Room,
  jid: string,
  affiliation: Affiliation,
  why: ChangeContext & { nick?: string | null },
): Promise<void> {
  const previous = room.affiliations.get(jid);
  if (affiliation === "none") room.affiliations.delete(jid);
  else {
    room.affiliations.set(jid, {
      affiliation,
      nick: why.nick !== undefined ? why.nick : (previous?.nick ?? null),
      reason: why.reason ?? null,
    });
  }
  await svc.saveAffiliation(room, jid);
  for (const occupant of covered(room, jid)) {
    const now = room.affiliationOf(occupant.bare);
    if (now === "outcast") {
      await svc.removeOccupant(room, occupant, { codes: [STATUS.banned], actor: why.actor, reason: why.reason });
    } else if (room.config.membersOnly && now === "none") {
      await svc.removeOccupant(room, occupant, {
        codes: [STATUS.affiliationRemoved],
        actor: why.actor,
        reason: why.reason,
      });
    } else {
      const before = occupant.role;
      occupant.role = defaultRole(now, room.config.moderated);
      await svc.broadcastPresence(room, occupant, {
        base: occupant.presence,
        item: { ...svc.item(room, occupant), actor: why.actor, reason: why.reason },
      });
      await revealJidsIfModerator(svc, room, occupant, before);
    }
  }
}
