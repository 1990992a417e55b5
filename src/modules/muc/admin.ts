/**
 * muc#admin (XEP-0045 §8 moderator, §9 admin, §10.3-§10.8 owner use cases): role changes by nick, affiliation
 * changes by JID, and the role and affiliation lists.
 */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { tryParseJid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { applyAffiliation, applyRole } from "./actions.ts";
import { MUC_NS } from "./ns.ts";
import type { Occupant } from "./occupant.ts";
import {
  type Affiliation,
  affiliationRank,
  canChangeAffiliation,
  canChangeRole,
  isAffiliation,
  isRole,
  type Refusal,
  type Role,
} from "./roles.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** The room an iq to a bare room JID is about; item-not-found when there is none (or it is locked to others). */
export async function roomOf(svc: MucService, ev: StanzaEvent): Promise<Room> {
  const room = await svc.getRoom(ev.to.local);
  if (!room || (room.locked && room.affiliationOf(ev.from.bareString) !== "owner")) {
    throw new StanzaError("cancel", "item-not-found", "No such room");
  }
  return room;
}

/** Who is asking: affiliation from the real bare JID, role and nick from the session, if joined. */
export interface Actor {
  affiliation: Affiliation;
  role: Role;
  occupant: Occupant | undefined;
}

export function actorOf(room: Room, ev: StanzaEvent): Actor {
  const occupant = room.sessions.get(ev.from.toString());
  return { affiliation: room.affiliationOf(ev.from.bareString), role: occupant?.role ?? "none", occupant };
}

function refuse(r: Refusal, what: string): void {
  if (r === "forbidden") throw new StanzaError("auth", "forbidden", `You may not ${what}`);
  if (r === "not-allowed") throw new StanzaError("cancel", "not-allowed", `You may not ${what} of that user`);
}

/** §7.11, §8.5, §9.2, §9.5, §9.8, §10.5, §10.8: one list, by affiliation or by role. */
export async function adminGet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const actor = actorOf(room, ev);
  const items = ev.stanza.firstElement()?.getChildren("item") ?? [];
  const item = items[0];
  if (items.length !== 1 || !item) throw new StanzaError("modify", "bad-request", "Ask for one list");
  const query = xml("query", { xmlns: MUC_NS.admin });
  const { affiliation, role } = item.attrs;
  if (affiliation !== undefined) {
    if (!isAffiliation(affiliation) || affiliation === "none")
      throw new StanzaError("modify", "bad-request", "Unknown affiliation");
    // Admins and owners see every list; members may see the member list of a members-only room (§7.11).
    const allowed =
      affiliationRank(actor.affiliation) >= affiliationRank("admin") ||
      (affiliation === "member" && room.config.membersOnly && actor.affiliation === "member");
    if (!allowed) throw new StanzaError("auth", "forbidden", "You may not see this list");
    for (const jid of room.withAffiliation(affiliation)) {
      const e = room.affiliations.get(jid);
      query.append(
        xml(
          "item",
          { affiliation, jid, nick: e?.nick ?? undefined },
          e?.reason ? xml("reason", null, e.reason) : undefined,
        ),
      );
    }
    return query;
  }
  if (role !== undefined) {
    if (role !== "moderator" && role !== "participant" && role !== "visitor") {
      throw new StanzaError("modify", "bad-request", "Unknown role");
    }
    // §8.5 voice list: moderators; §9.8 moderator list: admins.
    const allowed =
      role === "moderator"
        ? affiliationRank(actor.affiliation) >= affiliationRank("admin")
        : actor.role === "moderator";
    if (!allowed) throw new StanzaError("auth", "forbidden", "You may not see this list");
    const showJids = actor.occupant ? room.showsJidsTo(actor.occupant) : room.config.whois === "anyone";
    for (const o of room.occupants.values()) {
      if (o.role !== role) continue;
      query.append(
        xml("item", {
          role,
          nick: o.nick,
          affiliation: room.affiliationOf(o.bare),
          jid: showJids ? o.primary : undefined,
        }),
      );
    }
    return query;
  }
  throw new StanzaError("modify", "bad-request", "An item needs an affiliation or a role");
}

type Change =
  | { kind: "role"; target: Occupant; role: Role; reason?: string }
  | { kind: "affiliation"; jid: string; affiliation: Affiliation; nick?: string; reason?: string };

/** The bare JID (or domain) an affiliation item is about: its `jid`, or the occupant its `nick` names. */
function itemJid(room: Room, item: XmlElement): string {
  if (item.attrs.jid !== undefined) {
    const jid = tryParseJid(item.attrs.jid);
    if (!jid) throw new StanzaError("modify", "jid-malformed", "Invalid JID in item");
    return jid.bareString;
  }
  const occupant = item.attrs.nick !== undefined ? room.occupants.get(item.attrs.nick) : undefined;
  if (!occupant)
    throw new StanzaError("modify", "bad-request", "An affiliation item needs a jid (or the nick of an occupant)");
  return occupant.bare;
}

/** Checks one item against the actor's privileges and turns it into a change. */
function planChange(room: Room, actor: Actor, item: XmlElement): Change {
  const reason = item.getChildText("reason") || undefined;
  const { role, affiliation } = item.attrs;
  if (role !== undefined && affiliation === undefined) {
    if (!isRole(role)) throw new StanzaError("modify", "bad-request", "Unknown role");
    const target = item.attrs.nick !== undefined ? room.occupants.get(item.attrs.nick) : undefined;
    if (!target) throw new StanzaError("cancel", "item-not-found", "No occupant with that nick");
    refuse(
      canChangeRole(actor, { affiliation: room.affiliationOf(target.bare), role: target.role }, role),
      role === "none" ? "kick" : "change the role",
    );
    return { kind: "role", target, role, reason };
  }
  if (affiliation !== undefined && role === undefined) {
    if (!isAffiliation(affiliation)) throw new StanzaError("modify", "bad-request", "Unknown affiliation");
    const jid = itemJid(room, item);
    refuse(canChangeAffiliation(actor.affiliation, room.affiliationOf(jid), affiliation), "change the affiliation");
    return { kind: "affiliation", jid, affiliation, nick: item.attrs.nick, reason };
  }
  // §8/§9: a moderator or admin changes either a role or an affiliation per item, never both.
  throw new StanzaError("modify", "bad-request", "An item changes either a role or an affiliation");
}

/** Applies a batch of role and affiliation changes, all or nothing (every item is checked first). */
export async function adminSet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const actor = actorOf(room, ev);
  const items = ev.stanza.firstElement()?.getChildren("item") ?? [];
  if (items.length === 0) throw new StanzaError("modify", "bad-request", "No items");
  const changes = items.map((item) => planChange(room, actor, item));

  // §10.4: a room always keeps an owner.
  const owners = new Set(room.withAffiliation("owner"));
  for (const c of changes) {
    if (c.kind !== "affiliation") continue;
    if (c.affiliation === "owner") owners.add(c.jid);
    else owners.delete(c.jid);
  }
  if (owners.size === 0) throw new StanzaError("cancel", "conflict", "The room would have no owner left");

  const why = { actor: actor.occupant?.nick };
  for (const c of changes) {
    if (room.destroyed) break;
    if (c.kind === "role") {
      if (room.occupants.get(c.target.nick) === c.target)
        await applyRole(svc, room, c.target, c.role, { ...why, reason: c.reason });
    } else {
      await applyAffiliation(svc, room, c.jid, c.affiliation, { ...why, reason: c.reason, nick: c.nick });
    }
  }
  return null;
}
