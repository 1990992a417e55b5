/** XEP-0401 ad-hoc commands: users create contact invitations, admins create account invitations. */
import { StanzaError } from "../../core/errors.ts";
import type { ModuleContext } from "../../core/module.ts";
import { InviteError } from "../../invites/errors.ts";
import type { Invite } from "../../storage/invites.ts";
import { dataForm, fieldBoolean, fieldValue } from "../../xmpp/data-forms.ts";
import type { AdhocService } from "../adhoc.ts";
import type { InvitesService } from "../invites.ts";

/** XEP-0401 §8.1: the FORM_TYPE of invitation results. */
const INVITATION_FORM = "urn:xmpp:invite#invitation";
export const INVITE_NODE = "urn:xmpp:invite#invite";
export const CREATE_ACCOUNT_NODE = "urn:xmpp:invite#create-account";

/** XEP-0082 DateTime without milliseconds. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** XEP-0401 §5.1 result form: the xmpp: URI, the landing page and the expiry. */
function invitationForm(invites: InvitesService, invite: Invite) {
  const { uri, landing } = invites.urls(invite);
  return dataForm("result", {
    formType: INVITATION_FORM,
    title: "Invitation",
    instructions: "Send this link to the person you invite. It works once and expires at the time shown.",
    fields: [
      { var: "uri", type: "text-single", label: "Invitation URI", values: [uri] },
      ...(landing
        ? [{ var: "landing-url", type: "text-single" as const, label: "Invitation page", values: [landing] }]
        : []),
      { var: "expire", type: "text-single", label: "Expires", values: [dateTime(invite.expiresAt)] },
    ],
  });
}

function stanzaError(err: unknown): never {
  if (err instanceof InviteError) {
    throw new StanzaError(
      err.code === "username-taken" ? "cancel" : "modify",
      err.code === "username-taken" ? "conflict" : "bad-request",
      err.message,
    );
  }
  throw err;
}

export function registerInviteCommands(ctx: ModuleContext, adhoc: AdhocService, invites: InvitesService): void {
  const host = ctx.host.name;
  const registrationAllowed = () => ctx.config.registration.allow_with_invite;

  // XEP-0401 §5.1: a user's invitation to become their contact; `ibr=y` when the token may also create an
  // account here. Completed at once, with no form.
  adhoc.add({
    node: INVITE_NODE,
    name: "Invite someone",
    allowed: (jid) =>
      adhoc.isAdmin(jid) || (ctx.config.invites.allow_user_invites && jid.domain === host && jid.local !== ""),
    async run({ requester }) {
      const invite = await invites
        .create({
          creator: requester.bareString,
          roster: [requester.bareString],
          allowRegistration: registrationAllowed(),
        })
        .catch(stanzaError);
      return { status: "completed", form: invitationForm(invites, invite) };
    },
  });

  // XEP-0401 §5.5: an admin's invitation to create an account, with a username chosen now or by the invitee,
  // and optionally a mutual subscription with the admin.
  adhoc.add({
    node: CREATE_ACCOUNT_NODE,
    name: "Create an account invitation",
    allowed: (jid) => adhoc.isAdmin(jid),
    async run({ requester, stage, form }) {
      if (!registrationAllowed()) {
        throw new StanzaError("cancel", "not-allowed", "Creating accounts with invitations is disabled on this server");
      }
      if (stage === 0) {
        return {
          status: "executing",
          form: dataForm("form", {
            title: "Create an account invitation",
            instructions: "Leave the username empty to let the invitee choose one.",
            fields: [
              { var: "username", type: "text-single", label: "Username" },
              { var: "roster-subscription", type: "boolean", label: "Add me as a contact", values: ["0"] },
            ],
          }),
        };
      }
      const invite = await invites
        .create({
          creator: requester.bareString,
          username: fieldValue(form, "username") ?? null,
          roster: fieldBoolean(form, "roster-subscription") && requester.domain === host ? [requester.bareString] : [],
        })
        .catch(stanzaError);
      return { status: "completed", form: invitationForm(invites, invite) };
    },
  });
}
