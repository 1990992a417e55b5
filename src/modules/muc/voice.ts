/** Voice requests (XEP-0045 §7.13) and their approval by moderators (§8.6). */
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import { xml } from "../../xml/element.ts";
import { dataForm, findForm, parseBoolean } from "../../xmpp/data-forms.ts";
import { applyRole } from "./actions.ts";
import { MUC_NS } from "./ns.ts";
import type { Room } from "./room.ts";
import type { MucService } from "./service.ts";

/** Handles a muc#request form sent to the room; false when the message carries none. */
export async function handleVoiceForm(svc: MucService, room: Room, ev: StanzaEvent): Promise<boolean> {
  const form = findForm(ev.stanza, MUC_NS.request);
  if (!form) return false;
  const sender = room.sessions.get(ev.from.toString());
  if (!sender) throw new StanzaError("modify", "not-acceptable", "You are not in this room");

  const allow = form.values.get("muc#request_allow")?.[0];
  if (allow !== undefined) {
    // §8.6: a moderator answers a request it received.
    if (sender.role !== "moderator") throw new StanzaError("auth", "forbidden", "Only moderators may grant voice");
    if (parseBoolean(allow) !== true) return true;
    const nick = form.values.get("muc#roomnick")?.[0] ?? "";
    const target = room.occupants.get(nick);
    if (!target) throw new StanzaError("cancel", "item-not-found", "That occupant is not in the room");
    if (target.role === "visitor") await applyRole(svc, room, target, "participant", { actor: sender.nick });
    return true;
  }

  const role = form.values.get("muc#role")?.[0] ?? "participant";
  if (role !== "participant") throw new StanzaError("modify", "not-acceptable", "Only voice can be requested");
  if (sender.role !== "visitor") return true; // It already has voice.
  if (!sender.bucket.take()) throw new StanzaError("wait", "policy-violation", "You are sending requests too fast");
  // §7.13: every moderator gets a form to approve the request.
  const request = dataForm("form", {
    formType: MUC_NS.request,
    title: "Voice request",
    instructions: "To approve this request for voice, select the 'Grant voice' checkbox and submit the form.",
    fields: [
      {
        var: "muc#role",
        type: "list-single",
        label: "Requested role",
        values: ["participant"],
        options: [{ value: "participant" }],
      },
      { var: "muc#jid", type: "jid-single", label: "User ID", values: [sender.primary] },
      { var: "muc#roomnick", type: "text-single", label: "Room nickname", values: [sender.nick] },
      { var: "muc#request_allow", type: "boolean", label: "Grant voice to this person?", values: ["false"] },
    ],
  });
  const msg = xml("message", { from: room.jid, id: ev.stanza.attrs.id }, request);
  for (const moderator of [...room.occupants.values()]) {
    if (moderator.role === "moderator") await svc.toOccupant(moderator, msg);
  }
  return true;
}
