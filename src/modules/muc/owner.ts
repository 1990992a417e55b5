/** muc#owner (XEP-0045 §10.1-§10.2 room configuration, §10.9 destroying a room). */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { tryParseJid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { readForm } from "../../xmpp/data-forms.ts";
import { actorOf, roomOf } from "./admin.ts";
import { applyConfigForm, configChangeCodes, configForm, type RoomConfig } from "./config.ts";
import { MUC_NS, STATUS } from "./ns.ts";
import { roomPresence } from "./presence.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

function requireOwner(room: Room, ev: StanzaEvent): void {
  if (actorOf(room, ev).affiliation !== "owner") {
    throw new StanzaError("auth", "forbidden", "Only owners may configure or destroy the room");
  }
}

/** §10.1.3 / §10.2: the configuration form. */
export async function ownerGet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  requireOwner(room, ev);
  return xml("query", { xmlns: MUC_NS.owner }, configForm(room, svc.limits));
}

/** §10.1.2 instant room, §10.1.3 reserved room, §10.2 changes, §10.9 destruction. */
export async function ownerSet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  requireOwner(room, ev);
  const query = ev.stanza.firstElement() as XmlElement;
  const destroyEl = query.getChild("destroy");
  if (destroyEl) {
    const alternate = destroyEl.attrs.jid;
    if (alternate !== undefined && !tryParseJid(alternate)) {
      throw new StanzaError("modify", "jid-malformed", "Invalid alternate venue");
    }
    await destroyRoom(svc, room, {
      alternate,
      reason: destroyEl.getChildText("reason"),
      password: destroyEl.getChildText("password"),
    });
    return null;
  }
  const form = readForm(query);
  if (!form) throw new StanzaError("modify", "bad-request", "Expected a data form or <destroy/>");
  if (form.type === "cancel") {
    // §10.1.3: cancelling the initial configuration destroys the new room.
    if (room.locked) await destroyRoom(svc, room, {});
    return null;
  }
  if (form.type !== "submit") throw new StanzaError("modify", "bad-request", "Submit or cancel the form");
  if (form.formType !== undefined && form.formType !== MUC_NS.roomconfig) {
    throw new StanzaError("modify", "bad-request", "Unexpected FORM_TYPE");
  }
  await applyConfig(svc, room, applyConfigForm(room.config, form, svc.limits));
  return null;
}

/** Switches a room to a new configuration and deals with the consequences (§10.2.1). */
export async function applyConfig(svc: MucService, room: Room, next: RoomConfig): Promise<void> {
  const before = room.config;
  const wasLocked = room.locked;
  const wasStored = room.stored;
  room.config = next;
  room.locked = false;
  room.history.setLimit(next.historyLength);
  if (room.stored && !wasStored) await svc.saveAll(room);
  else if (!room.stored && wasStored) await svc.unstore(room);
  else await svc.saveRoom(room);
  if (wasLocked) return;

  await svc.roomNotice(room, configChangeCodes(before, next));
  if (next.membersOnly && !before.membersOnly) {
    // §10.2: occupants who are not members leave a room that became members-only (322).
    for (const o of [...room.occupants.values()]) {
      if (room.affiliationOf(o.bare) === "none") await svc.removeOccupant(room, o, { codes: [STATUS.membersOnly] });
    }
  }
  if (next.whois !== before.whois) {
    // Who may see real JIDs changed: everyone gets everyone's presence again, with or without them.
    for (const o of [...room.occupants.values()]) {
      await svc.broadcastPresence(room, o, { base: o.presence, item: svc.item(room, o), selfSessions: [] });
    }
  }
  svc.dropIfEmpty(room);
}

/**
 * §10.9: every occupant gets its own unavailable presence carrying `<destroy/>` (with the alternate venue and
 * reason), then the room is gone from memory, storage and archive.
 */
export async function destroyRoom(
  svc: MucService,
  room: Room,
  why: { alternate?: string; reason?: string; password?: string },
): Promise<void> {
  const destroy = xml(
    "destroy",
    { jid: why.alternate },
    why.reason ? xml("reason", null, why.reason) : undefined,
    why.password ? xml("password", null, why.password) : undefined,
  );
  const occupants = [...room.occupants.values()];
  room.occupants.clear();
  room.sessions.clear();
  room.destroyed = true;
  for (const o of occupants) {
    const p = roomPresence({
      from: room.nickJid(o.nick),
      unavailable: true,
      base: null,
      occupantId: o.id,
      item: { affiliation: "none", role: "none" },
      extra: [destroy],
      codes: [STATUS.self],
    });
    await svc.toOccupant(o, p);
  }
  await svc.forget(room);
}
