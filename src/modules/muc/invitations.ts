/** Mediated invitations and declines (XEP-0045 §7.8.2, §7.8.3). Direct invitations (XEP-0249) need no room. */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import { tryParseJid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { MUC_NS } from "./ns.ts";
import { affiliationRank } from "./roles.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

function reasonOf(el: XmlElement): XmlElement | undefined {
  const r = el.getChild("reason");
  return r ? xml("reason", null, r.text()) : undefined;
}

/** Handles the `<invite/>` and `<decline/>` elements of a message to the room. */
export async function handleInvitations(
  svc: MucService,
  room: Room,
  ev: StanzaEvent,
  userX: XmlElement,
): Promise<void> {
  const invites = userX.getChildren("invite");
  if (invites.length > 0) await invite(svc, room, ev, invites);
  const decline = userX.getChild("decline");
  if (decline) await declineInvitation(svc, room, ev, decline);
}

/** §7.8.2: an occupant invites others; the room passes the invitation on from its own JID. */
async function invite(svc: MucService, room: Room, ev: StanzaEvent, invites: XmlElement[]): Promise<void> {
  const inviter = room.sessions.get(ev.from.toString());
  if (!inviter) throw new StanzaError("modify", "not-acceptable", "Only occupants may invite others");
  const affiliation = room.affiliationOf(inviter.bare);
  const privileged = inviter.role === "moderator" || affiliationRank(affiliation) >= affiliationRank("admin");
  if (!room.config.allowInvites && !privileged) {
    throw new StanzaError("auth", "forbidden", "Only moderators may invite others to this room");
  }
  const targets = invites.map((i) => {
    const jid = tryParseJid(i.attrs.to ?? "");
    if (!jid) throw new StanzaError("modify", "jid-malformed", "An invitation needs a valid 'to' address");
    return { jid, el: i };
  });
  if (!inviter.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are sending invitations too fast");
  for (const { jid, el } of targets) {
    // §7.8.2: in a members-only room the invitation makes the invitee a member, so that it can enter.
    const bare = jid.bareString;
    if (room.config.membersOnly && room.affiliationOf(bare) === "none") {
      room.affiliations.set(bare, { affiliation: "member", nick: null, reason: `Invited by ${inviter.nick}` });
      await svc.saveAffiliation(room, bare);
    }
    const continued = el.getChild("continue");
    const msg = xml(
      "message",
      { from: room.jid, to: jid.toString(), id: ev.stanza.attrs.id },
      xml(
        "x",
        { xmlns: MUC_NS.user },
        xml(
          "invite",
          { from: ev.from.toString() },
          reasonOf(el),
          continued ? xml("continue", { thread: continued.attrs.thread }) : undefined,
        ),
        room.config.password !== "" ? xml("password", null, room.config.password) : undefined,
      ),
      // For clients that know nothing of MUC invitations.
      xml("body", null, `${ev.from.bareString} invites you to the room ${room.jid}`),
    );
    room.invitations.add(bare, ev.from.bareString);
    await svc.ctx.send(msg);
  }
}

/** §7.8.3: the invitee declines; the room tells the inviter. */
async function declineInvitation(svc: MucService, room: Room, ev: StanzaEvent, decline: XmlElement): Promise<void> {
  // Anyone invited may decline, so the sender need not be an occupant; a banned user gets no relay through the room.
  if (room.affiliationOf(ev.from.bareString) === "outcast") throw new StanzaError("auth", "forbidden");
  const to = tryParseJid(decline.attrs.to ?? "");
  if (!to) throw new StanzaError("modify", "jid-malformed", "A decline needs a valid 'to' address");
  // Only a decline of an invitation this room passed on is relayed, and only to its inviter: otherwise anyone
  // could make the room send messages to any address.
  if (!room.invitations.take(ev.from.bareString, to.bareString)) {
    throw new StanzaError("cancel", "item-not-found", "There is no invitation from that address to decline");
  }
  const msg = xml(
    "message",
    { from: room.jid, to: to.toString(), id: ev.stanza.attrs.id },
    xml("x", { xmlns: MUC_NS.user }, xml("decline", { from: ev.from.bareString }, reasonOf(decline))),
  );
  await svc.ctx.send(msg);
}
