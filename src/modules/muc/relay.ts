/** What every message the room relays gets: ids, archiving decisions, fan-out. */
import { randomBytes } from "node:crypto";
import type { XmlElement, XmlNode } from "../../xml/element.ts";
import { MUC_NS } from "./ns.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** A fresh XEP-0359 stanza id. */
export function newStanzaId(): string {
  return randomBytes(12).toString("base64url");
}

function hasHint(stanza: XmlElement, name: string): boolean {
  return stanza.getChild(name, MUC_NS.hints) !== undefined;
}

/** Whether the room archives a message (XEP-0313 §5.1.1 and XEP-0334 hints): content, retractions, `<store/>`. */
export function archivable(stanza: XmlElement): boolean {
  if (hasHint(stanza, "no-store") || hasHint(stanza, "no-permanent-store")) return false;
  return (
    stanza.getChild("body") !== undefined ||
    stanza.getChild("retract", MUC_NS.retract) !== undefined ||
    hasHint(stanza, "store")
  );
}

/** Whether a message belongs to the discussion history new occupants get (§7.2.14): messages with a body. */
export function historyWorthy(stanza: XmlElement): boolean {
  return stanza.getChild("body") !== undefined && !hasHint(stanza, "no-store");
}

/** Removes what only the room may put on a message it reflects: its stanza-ids and occupant ids (XEP-0359 §3.1, XEP-0421 §4). */
export function stripRoomPayloads(room: Room, stanza: XmlElement): XmlNode[] {
  return stanza.children.filter(
    (c) =>
      typeof c === "string" ||
      !(
        (c.name === "stanza-id" && c.attrs.xmlns === MUC_NS.sid && c.attrs.by === room.jid) ||
        (c.name === "occupant-id" && c.attrs.xmlns === MUC_NS.occupantId)
      ),
  );
}

/** Sends a message to every joined session, except those still receiving their join sequence. */
export async function fanOut(svc: MucService, room: Room, stanza: XmlElement): Promise<void> {
  for (const occupant of [...room.occupants.values()]) {
    for (const jid of [...occupant.sessions.keys()]) {
      if (!occupant.joining.has(jid)) await svc.deliver(stanza, jid);
    }
  }
}
