/**
 * The MUC service of one service host: the rooms it holds (loading persistent ones from storage on first use),
 * creation policy, persistence, and delivery of what rooms send.
 */
import { randomBytes } from "node:crypto";
import type { HostServices, ModuleContext } from "../../core/module.ts";
import type { Jid } from "../../jid/jid.ts";
import type { MucAffiliationRecord, MucRoomRecord } from "../../storage/muc.ts";
import { XmlElement as Element, type XmlElement, xml } from "../../xml/element.ts";
import type { RoomArchive } from "./archive.ts";
import { defaultRoomConfig, parseStoredConfig, type ServiceLimits } from "./config.ts";
import { MUC_NS, STATUS } from "./ns.ts";
import type { Occupant } from "./occupant.ts";
import { type ItemInfo, roomPresence } from "./presence.ts";
import type { Affiliation, Role } from "./roles.ts";
import { Room } from "./room.ts";

/** The MAM module's `archive` service, which answers queries on room archives. */
export type ArchiveApi = HostServices["archive"];

/** Who may create rooms (config `muc.room_creation`). */
export type CreationPolicy = "anyone" | "local" | "admins";

export interface MucSettings {
  /** The service's domain, e.g. `conference.localhost`. */
  domain: string;
  /** Name shown in service discovery. */
  name: string;
  creation: CreationPolicy;
  limits: ServiceLimits;
  rate: { perSecond: number; burst: number };
  /** Server administrators (config `admins`): owners of every room. */
  admins: ReadonlySet<string>;
  /** Domains of this server's user hosts ("local users"). */
  localHosts: ReadonlySet<string>;
}

/** Room state other than configuration and subject, stored as the record's `data` JSON. */
interface RoomData {
  secret: string;
  avatar: string | null;
}

/** What an occupant's presence broadcast says (see `broadcastPresence`). */
export interface PresenceBroadcast {
  /** The nick the presence comes from (the old one for a nick change); default the occupant's nick. */
  nick?: string;
  unavailable?: boolean;
  /** The occupant's payloads (show, status...), or null. */
  base: XmlElement | null;
  item: Omit<ItemInfo, "jid">;
  /** Status codes for everyone. */
  codes?: string[];
  /** Extra status codes for the occupant itself (110 is always added). */
  selfCodes?: string[];
  extra?: XmlElement[];
  /** The real JID to reveal (default: the occupant's primary session). */
  realJid?: string;
  /** Role deciding whether the presence is broadcast at all (muc#roomconfig_presencebroadcast); default item.role. */
  broadcastRole?: Role;
  /** Which of the occupant's own sessions get the self-presence; default all. */
  selfSessions?: string[];
}

export class MucService {
  readonly rooms = new Map<string, Room>();
  private readonly loading = new Map<string, Promise<Room | undefined>>();

  constructor(
    readonly ctx: ModuleContext,
    readonly settings: MucSettings,
    readonly archive: RoomArchive,
    /** Answers MAM queries on room archives; undefined when the MAM module is off (rooms still archive). */
    readonly mam: ArchiveApi | undefined,
  ) {}

  /** MAM features a room with archiving advertises (XEP-0313 §6). */
  get mamFeatures(): string[] {
    return this.mam ? [...this.mam.namespaces, "urn:xmpp:mam:2#extended"] : [];
  }

  get domain(): string {
    return this.settings.domain;
  }

  get limits(): ServiceLimits {
    return this.settings.limits;
  }

  // ---- rooms ------------------------------------------------------------------------------------------------

  /** The room with this name: in memory, or loaded from storage if it is persistent. */
  getRoom(name: string): Promise<Room | undefined> {
    const room = this.rooms.get(name);
    if (room) return Promise.resolve(room);
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name).finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  private async load(name: string): Promise<Room | undefined> {
    const record = await this.ctx.storage.muc.getRoom(this.domain, name);
    if (!record) return undefined;
    const affiliations = await this.ctx.storage.muc.affiliations(this.domain, name);
    const room = this.fromRecord(record, affiliations);
    if (room.config.archiving) {
      for (const entry of await this.archive.recent(name, room.config.historyLength)) room.history.push(entry);
    }
    // A join may have created the room while storage answered; the first one wins.
    const existing = this.rooms.get(name);
    if (existing) return existing;
    this.rooms.set(name, room);
    return room;
  }

  private fromRecord(record: MucRoomRecord, affiliations: MucAffiliationRecord[]): Room {
    const data = JSON.parse(record.data) as Partial<RoomData>;
    const room = new Room(
      record.name,
      this.domain,
      parseStoredConfig(record.config, this.limits),
      data.secret ?? randomBytes(16).toString("base64"),
      record.createdAt,
      this.settings.admins,
    );
    room.avatar = data.avatar ?? null;
    room.subject = { text: record.subject, by: record.subjectBy, at: record.subjectAt };
    for (const a of affiliations)
      room.affiliations.set(a.jid, { affiliation: a.affiliation, nick: a.nick, reason: a.reason });
    return room;
  }

  /**
   * The public room directory (§6.3): listed rooms in memory, and persistent ones from storage, read from their
   * records without loading them (a directory request must not restore every room's history).
   */
  async directory(): Promise<{ jid: string; name: string }[]> {
    const out = new Map<string, { jid: string; name: string }>();
    for (const r of await this.ctx.storage.muc.listRooms(this.domain)) {
      if (this.rooms.has(r.name)) continue;
      const config = parseStoredConfig(r.config, this.limits);
      if (config.public) out.set(r.name, { jid: `${r.name}@${this.domain}`, name: config.name || r.name });
    }
    for (const room of this.rooms.values()) {
      if (room.listed) out.set(room.name, { jid: room.jid, name: room.config.name || room.name });
    }
    return [...out.values()].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  }

  /** Room creation policy (§10.1.1; config `muc.room_creation`). */
  mayCreate(from: Jid): boolean {
    switch (this.settings.creation) {
      case "anyone":
        return true;
      case "local":
        return this.settings.localHosts.has(from.domain);
      case "admins":
        return this.settings.admins.has(from.bareString);
    }
  }

  /** Creates a room owned by `owner` (locked until configured unless `instant`). Returns an existing one. */
  createRoom(name: string, owner: string, instant: boolean): { room: Room; created: boolean } {
    const existing = this.rooms.get(name);
    if (existing) return { room: existing, created: false };
    const room = new Room(
      name,
      this.domain,
      defaultRoomConfig(this.limits),
      randomBytes(16).toString("base64"),
      Date.now(),
      this.settings.admins,
    );
    room.affiliations.set(owner, { affiliation: "owner", nick: null, reason: null });
    room.locked = !instant;
    this.rooms.set(name, room);
    return { room, created: true };
  }

  // ---- persistence ------------------------------------------------------------------------------------------

  private record(room: Room): MucRoomRecord {
    const data: RoomData = { secret: room.secret, avatar: room.avatar };
    return {
      name: room.name,
      config: JSON.stringify(room.config),
      subject: room.subject.text,
      subjectBy: room.subject.by,
      subjectAt: room.subject.at,
      createdAt: room.createdAt,
      data: JSON.stringify(data),
    };
  }

  /** Saves the room record (configuration, subject, data) if the room lives in storage. */
  async saveRoom(room: Room): Promise<void> {
    if (room.stored && !room.destroyed) await this.ctx.storage.muc.saveRoom(this.domain, this.record(room));
  }

  /** Saves everything: for a room that just became persistent. */
  async saveAll(room: Room): Promise<void> {
    if (!room.stored || room.destroyed) return;
    await this.ctx.storage.muc.saveRoom(this.domain, this.record(room));
    const records: MucAffiliationRecord[] = [];
    for (const [jid, e] of room.affiliations) records.push({ jid, ...e });
    await this.ctx.storage.muc.replaceAffiliations(this.domain, room.name, records);
  }

  async saveAffiliation(room: Room, jid: string): Promise<void> {
    if (!room.stored || room.destroyed) return;
    const e = room.affiliations.get(jid);
    if (e) await this.ctx.storage.muc.setAffiliation(this.domain, room.name, { jid, ...e });
    else await this.ctx.storage.muc.removeAffiliation(this.domain, room.name, jid);
  }

  /** Removes the room from storage (it became temporary, or was destroyed). */
  async unstore(room: Room): Promise<void> {
    await this.ctx.storage.muc.deleteRoom(this.domain, room.name);
  }

  /** Removes a deleted account's affiliations everywhere (in memory and in storage). */
  async forgetJid(bare: string): Promise<void> {
    for (const room of this.rooms.values()) room.affiliations.delete(bare);
    await this.ctx.storage.muc.removeJid(this.domain, bare);
  }

  /** A temporary room disappears with its last occupant (§10.1.1, §4.1 "temporary room"). */
  dropIfEmpty(room: Room): void {
    if (room.occupants.size > 0 || room.stored) return;
    room.destroyed = true;
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
  }

  /** Forgets a destroyed room everywhere: memory, storage, archive. */
  async forget(room: Room): Promise<void> {
    room.destroyed = true;
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name);
    await this.unstore(room);
    await this.archive.remove(room.name);
  }

  // ---- delivery ---------------------------------------------------------------------------------------------

  /** Routes a copy of `stanza` addressed to `to`. Never throws: one bad recipient must not stop a broadcast. */
  async deliver(stanza: XmlElement, to: string): Promise<void> {
    // A shallow copy: recipients share the (read-only) payload elements, which keeps fan-out cheap.
    const copy = new Element(stanza.name, { ...stanza.attrs, to }, stanza.children.slice());
    try {
      await this.ctx.send(copy);
    } catch (err) {
      this.ctx.log.warn({ err, to }, "delivery from a room failed");
    }
  }

  /** Sends to every joined session of an occupant. */
  async toOccupant(occupant: Occupant, stanza: XmlElement): Promise<void> {
    for (const jid of [...occupant.sessions.keys()]) await this.deliver(stanza, jid);
  }

  /** Sends to every session of every occupant. */
  async toRoom(room: Room, stanza: XmlElement): Promise<void> {
    for (const occupant of [...room.occupants.values()]) await this.toOccupant(occupant, stanza);
  }

  /** A message from the room itself, with muc#user status codes (§10.2.1 configuration change and others). */
  async roomNotice(room: Room, codes: string[], extra: XmlElement[] = []): Promise<void> {
    const msg = xml(
      "message",
      { type: "groupchat", from: room.jid, id: randomBytes(8).toString("hex") },
      ...extra,
      xml("x", { xmlns: MUC_NS.user }, ...codes.map((code) => xml("status", { code }))),
    );
    await this.toRoom(room, msg);
  }

  /**
   * Sends an occupant's presence to the room (§7.2.3): each other occupant gets it once per session, with the
   * real JID when it may see it (§4.1); the occupant's own sessions get it with status 110 and the real JID.
   */
  async broadcastPresence(room: Room, occupant: Occupant, b: PresenceBroadcast): Promise<void> {
    const from = room.nickJid(b.nick ?? occupant.nick);
    const realJid = b.realJid ?? occupant.primary;
    const make = (withJid: boolean, self: boolean): XmlElement =>
      roomPresence({
        from,
        unavailable: b.unavailable,
        base: b.base,
        occupantId: occupant.id,
        item: { ...b.item, jid: withJid ? realJid : undefined },
        codes: self ? [...(b.codes ?? []), STATUS.self, ...(b.selfCodes ?? [])] : b.codes,
        extra: b.extra,
      });
    if (room.config.presenceBroadcast.includes(b.broadcastRole ?? b.item.role)) {
      // Two variants at most, built on first use: with and without the real JID.
      const variants = new Map<boolean, XmlElement>();
      for (const other of [...room.occupants.values()]) {
        if (other === occupant) continue;
        const withJid = room.showsJidsTo(other);
        let el = variants.get(withJid);
        if (!el) {
          el = make(withJid, false);
          variants.set(withJid, el);
        }
        await this.toOccupant(other, el);
      }
    }
    const self = make(true, true);
    for (const jid of b.selfSessions ?? [...occupant.sessions.keys()]) await this.deliver(self, jid);
  }

  /** The item describing an occupant now. */
  item(room: Room, occupant: Occupant): Omit<ItemInfo, "jid"> {
    return { affiliation: room.affiliationOf(occupant.bare), role: occupant.role };
  }

  /**
   * Takes an occupant out of the room with all its sessions and tells everyone why (§8.2 kick 307, §9.1 ban
   * 301, §9.4 321, §10.2 322, 333 errors, 332 shutdown).
   */
  async removeOccupant(
    room: Room,
    occupant: Occupant,
    why: { codes: string[]; actor?: string; reason?: string; affiliation?: Affiliation },
  ): Promise<void> {
    if (room.occupants.get(occupant.nick) !== occupant) return;
    room.occupants.delete(occupant.nick);
    for (const jid of occupant.sessions.keys()) room.sessions.delete(jid);
    const previousRole = occupant.role;
    occupant.role = "none";
    await this.broadcastPresence(room, occupant, {
      unavailable: true,
      base: null,
      item: {
        affiliation: why.affiliation ?? room.affiliationOf(occupant.bare),
        role: "none",
        actor: why.actor,
        reason: why.reason,
      },
      codes: why.codes,
      broadcastRole: previousRole,
    });
    this.dropIfEmpty(room);
  }
}
