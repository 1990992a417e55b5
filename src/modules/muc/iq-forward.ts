/**
 * iq addressed to an occupant (`room@service/nick`): XEP-0410 self-pings answered by the room, and every other
 * request forwarded to the occupant (XEP-0045 §6.6 disco, vCards for occupant avatars, version...), with the
 * answer routed back. The real JIDs stay hidden: each side only sees the other's room JID.
 */
import { randomBytes } from "node:crypto";
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import { iqResult } from "../../core/stanza.ts";
import { XmlElement as Element } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { MUC_NS } from "./ns.ts";
import type { MucService } from "./service.ts";

interface Pending {
  /** The asker's real full JID and its iq id. */
  asker: string;
  id: string;
  /** Room JID the answer comes from (the target's nick). */
  from: string;
  /** Where the request went: only an answer from there counts. */
  target: string;
  timer: NodeJS.Timeout;
}

/** How long a forwarded request waits for its answer before it is forgotten. */
const FORWARD_TIMEOUT_MS = 60_000;

export class IqForwarder {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly svc: MucService) {}

  /** Handles an iq get/set or result/error to an occupant JID. Always takes it. */
  async handle(ev: StanzaEvent): Promise<true> {
    const type = ev.stanza.attrs.type;
    if (type === "result" || type === "error") {
      await this.answer(ev);
      return true;
    }
    const room = this.svc.rooms.get(ev.to.local);
    const asker = room?.sessions.get(ev.from.toString());
    const payload = ev.stanza.firstElement();
    if (!room || !asker) {
      // XEP-0410 §3.2: not-acceptable tells a self-pinging client it is not (or no longer) joined.
      throw new StanzaError("cancel", "not-acceptable", "You are not in this room");
    }
    const target = room.occupants.get(ev.to.resource);
    if (!target) throw new StanzaError("cancel", "item-not-found", "No such occupant");
    if (target === asker && payload?.name === "ping" && payload.attrs.xmlns === NS.ping) {
      // XEP-0410 §3.3 (self-ping optimization): the room answers for the occupant.
      await this.svc.ctx.send(iqResult(ev.stanza));
      return true;
    }
    // Forwarding costs two routed stanzas and a pending entry: it counts against the asker's rate limit.
    if (!asker.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are sending requests too fast");
    // vCards belong to the account, not to a device (XEP-0054 §3.2): ask the occupant's bare JID.
    const to = payload?.name === "vCard" && payload.attrs.xmlns === MUC_NS.vcard ? target.bare : target.primary;
    const id = randomBytes(9).toString("base64url");
    const timer = setTimeout(() => this.pending.delete(id), FORWARD_TIMEOUT_MS);
    timer.unref();
    this.pending.set(id, {
      asker: ev.from.toString(),
      id: ev.stanza.attrs.id ?? "",
      from: ev.to.toString(),
      target: to,
      timer,
    });
    const forward = new Element(
      "iq",
      { ...ev.stanza.attrs, id, from: room.nickJid(asker.nick), to },
      ev.stanza.children,
    );
    await this.svc.ctx.send(forward);
    return true;
  }

  /** The answer to a forwarded request goes back to the asker, from the target's room JID. */
  private async answer(ev: StanzaEvent): Promise<void> {
    const p = this.pending.get(ev.stanza.attrs.id ?? "");
    if (!p || p.target !== ev.from.toString()) return;
    this.pending.delete(ev.stanza.attrs.id ?? "");
    clearTimeout(p.timer);
    const back = new Element("iq", { ...ev.stanza.attrs, id: p.id, from: p.from, to: p.asker }, ev.stanza.children);
    await this.svc.ctx.send(back);
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
