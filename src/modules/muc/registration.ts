/** Registering with a room (XEP-0045 §7.10): membership with a reserved nick, and §7.12 discovering it. */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { IqResultPayload } from "../../core/module.ts";
import { JidError, makeJid } from "../../jid/jid.ts";
import { xml } from "../../xml/element.ts";
import { dataForm, readForm } from "../../xmpp/data-forms.ts";
import { applyAffiliation } from "./actions.ts";
import { roomOf } from "./admin.ts";
import { MUC_NS } from "./ns.ts";
import type { MucService } from "./service.ts";

/** §7.10: the registration form, or `<registered/>` with the reserved nick for a member. */
export async function registerGet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const bare = ev.from.bareString;
  const affiliation = room.affiliationOf(bare);
  if (affiliation === "outcast") throw new StanzaError("auth", "forbidden", "You are banned from this room");
  const nick = room.reservedNick(bare);
  if (affiliation !== "none" && nick !== null) {
    return xml("query", { xmlns: MUC_NS.iqRegister }, xml("registered"), xml("username", null, nick));
  }
  return xml(
    "query",
    { xmlns: MUC_NS.iqRegister },
    xml("instructions", null, "Choose the nickname you want to reserve in this room."),
    dataForm("form", {
      formType: MUC_NS.register,
      title: `Registration with ${room.jid}`,
      fields: [{ var: "muc#register_roomnick", type: "text-single", label: "Desired nickname", required: true }],
    }),
  );
}

/**
 * §7.10: submitting the form reserves the nick and makes the user a member (there is no approval step:
 * registration is open where the room is open). `<remove/>` cancels a registration.
 */
export async function registerSet(svc: MucService, ev: StanzaEvent): Promise<IqResultPayload> {
  const room = await roomOf(svc, ev);
  const bare = ev.from.bareString;
  const affiliation = room.affiliationOf(bare);
  const query = ev.stanza.firstElement();
  if (affiliation === "outcast") throw new StanzaError("auth", "forbidden", "You are banned from this room");
  if (query?.getChild("remove")) {
    // Members lose their membership; admins and owners only their reserved nick.
    if (affiliation === "member") await applyAffiliation(svc, room, bare, "none", { nick: null });
    else if (affiliation !== "none") await applyAffiliation(svc, room, bare, affiliation, { nick: null });
    return null;
  }
  const form = readForm(query);
  if (form?.type !== "submit") throw new StanzaError("modify", "bad-request", "Submit the registration form");
  const wanted = form.values.get("muc#register_roomnick")?.[0] ?? "";
  let nick: string;
  try {
    nick = makeJid(room.name, room.service, wanted).resource;
  } catch (err) {
    if (err instanceof JidError) throw new StanzaError("modify", "jid-malformed", "That nickname is not valid");
    throw err;
  }
  if (nick.trim() === "") throw new StanzaError("modify", "not-acceptable", "A nickname is required");
  const reservedBy = room.nickReservedBy(nick);
  const inUse = room.occupants.get(nick);
  if ((reservedBy !== undefined && reservedBy !== bare) || (inUse && inUse.bare !== bare)) {
    throw new StanzaError("cancel", "conflict", "That nickname is taken");
  }
  if (room.config.membersOnly && affiliation === "none") {
    throw new StanzaError("cancel", "not-allowed", "Only an admin can add members to this room");
  }
  // Membership opens the room's archive (mam.ts): in a password-protected room it goes only to those who proved
  // they know the password by entering (XEP-0045 §7.2.6), or it would be a way around the password.
  if (room.config.password !== "" && affiliation === "none" && room.occupantsOf(bare).length === 0) {
    throw new StanzaError("auth", "not-authorized", "Enter the room with its password before registering");
  }
  await applyAffiliation(svc, room, bare, affiliation === "none" ? "member" : affiliation, { nick });
  return null;
}
