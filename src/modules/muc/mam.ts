/**
 * MAM queries to a room (XEP-0313 on a room JID): who may read a room's archive, then the MAM module's
 * `archive` service answers. The room appends to the archive itself as it relays messages (messages.ts).
 */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { XmlElement } from "../../xml/element.ts";
import { fieldValues, readForm } from "../../xmpp/data-forms.ts";
import { roomOf } from "./admin.ts";
import { affiliationRank } from "./roles.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** Whether a MAM query filters on the author (`with`), in any MAM version's syntax. */
function filtersOnAuthor(query: XmlElement): boolean {
  if (query.getChild("with")) return true;
  // The archive skips empty values (mam/form.ts): any non-empty one is a filter.
  return fieldValues(readForm(query), "with").some((v) => v !== "");
}

/**
 * Reading a room's archive is like reading the room: never for outcasts; in members-only, hidden or
 * password-protected rooms only for members and present occupants (otherwise the archive would leak what the
 * room keeps out). In semi-anonymous rooms only those who may see real JIDs may filter by author, since the
 * archive's `with` is the author's real bare JID.
 */
function checkAccess(room: Room, ev: StanzaEvent): void {
  const affiliation = room.affiliationOf(ev.from.bareString);
  if (affiliation === "outcast") throw new StanzaError("auth", "forbidden", "You are banned from this room");
  const occupant = room.sessions.get(ev.from.toString()) ?? room.occupantsOf(ev.from.bareString)[0];
  const member = affiliationRank(affiliation) >= affiliationRank("member");
  const restricted = room.config.membersOnly || !room.config.public || room.config.password !== "";
  if (restricted && !member && !occupant) {
    throw new StanzaError("auth", "forbidden", "Only members and occupants may read this room's archive");
  }
  const query = ev.stanza.firstElement();
  if (query && room.config.whois !== "anyone" && filtersOnAuthor(query)) {
    const seesJids = affiliationRank(affiliation) >= affiliationRank("admin") || occupant?.role === "moderator";
    if (!seesJids) throw new StanzaError("cancel", "not-allowed", "Filtering by author needs a non-anonymous room");
  }
}

/** Handles a MAM iq (query form, query, metadata) addressed to a room. */
export async function roomMam(svc: MucService, ev: StanzaEvent): Promise<true> {
  const room = await roomOf(svc, ev);
  if (!svc.mam) throw new StanzaError("cancel", "service-unavailable", "Message archives are not enabled");
  checkAccess(room, ev);
  await svc.mam.answer(svc.archive.ref(room.name), ev.stanza);
  return true;
}
