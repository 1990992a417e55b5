import { AccountError, AccountExistsError } from "../accounts/manager.ts";
import { StanzaError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type Jid, tryParseJid } from "../jid/jid.ts";
import { xml } from "../xml/element.ts";
import { dataForm, type FieldSpec, fieldValue, fieldValues, type ParsedForm } from "../xmpp/data-forms.ts";
import type { AccountsService } from "./accounts.ts";
import type { AdhocService } from "./adhoc.ts";

/** XEP-0133 §6: every admin form and result carries this FORM_TYPE. */
const ADMIN = "http://jabber.org/protocol/admin";
const node = (name: string) => `${ADMIN}#${name}`;

/** The bare accounts of this host named in a JID field; a JID of another host or with a resource is an error. */
function accountsOf(form: ParsedForm | null, field: string, host: string): Jid[] {
  const values = fieldValues(form, field).filter((v) => v.trim() !== "");
  if (values.length === 0) throw new StanzaError("modify", "bad-request", `The field ${field} is required`);
  return values.map((v) => {
    const jid = tryParseJid(v.trim());
    if (!jid || jid.local === "" || jid.resource !== "") {
      throw new StanzaError("modify", "jid-malformed", `"${v}" is not an account address like user@${host}`);
    }
    if (jid.domain !== host) throw new StanzaError("modify", "bad-request", `${jid} is not an account of ${host}`);
    return jid;
  });
}

function accountError(err: unknown): never {
  if (err instanceof AccountExistsError) throw new StanzaError("cancel", "conflict", err.message);
  if (err instanceof AccountError) throw new StanzaError("modify", "not-acceptable", err.message);
  throw err;
}

/** A one-form command: shows `fields`, then runs `done` with the submission. */
function formCommand(
  adhoc: AdhocService,
  name: string,
  title: string,
  fields: FieldSpec[],
  done: (form: ParsedForm | null, requester: Jid) => Promise<string>,
) {
  adhoc.add({
    node: node(name),
    name: title,
    allowed: (jid) => adhoc.isAdmin(jid),
    async run({ stage, form, requester }) {
      if (stage === 0) {
        return { status: "executing", form: dataForm("form", { formType: ADMIN, title, fields }) };
      }
      return { status: "completed", notes: [{ type: "info", text: await done(form, requester) }] };
    },
  });
}

/** The XEP-0133 commands an admin of a family or community server needs, for admins listed in `admins`. */
export const adminCommandsModule: ModuleDefinition = {
  name: "admin-commands",
  specs: [
    {
      spec: "XEP-0133",
      version: "1.2",
      note: "add/delete user, change password, online users list and count, registered users count, announce",
    },
  ],
  load(ctx) {
    const adhoc = ctx.service("adhoc");
    const service = ctx.service("accounts");
    if (!adhoc || !service) throw new Error("admin commands need the adhoc and accounts modules");
    const accounts: AccountsService = service;
    const host = ctx.host.name;

    // §4.1 Add User
    formCommand(
      adhoc,
      "add-user",
      "Add a user",
      [
        { var: "accountjid", type: "jid-single", label: "The address of the new account", required: true },
        { var: "password", type: "text-private", label: "Password", required: true },
        { var: "password-verify", type: "text-private", label: "Password again", required: true },
      ],
      async (form) => {
        const [jid] = accountsOf(form, "accountjid", host) as [Jid];
        const password = fieldValue(form, "password");
        if (!password) throw new StanzaError("modify", "bad-request", "The password is required");
        const verify = fieldValue(form, "password-verify");
        if (verify !== undefined && verify !== password) {
          throw new StanzaError("modify", "bad-request", "The passwords do not match");
        }
        await accounts.create(jid.local, password).catch(accountError);
        return `Created ${jid}`;
      },
    );

    // §4.2 Delete User: ends the users' sessions and removes all their data.
    formCommand(
      adhoc,
      "delete-user",
      "Delete users",
      [{ var: "accountjids", type: "jid-multi", label: "The accounts to delete", required: true }],
      async (form, requester) => {
        const jids = accountsOf(form, "accountjids", host);
        if (jids.some((j) => j.equals(requester.bare))) {
          throw new StanzaError("cancel", "not-allowed", "Delete your own account from your client's account settings");
        }
        const deleted: string[] = [];
        const missing: string[] = [];
        for (const jid of jids) {
          if (await accounts.delete(jid.local, "The account was deleted by an administrator"))
            deleted.push(jid.toString());
          else missing.push(jid.toString());
        }
        if (deleted.length === 0)
          throw new StanzaError("cancel", "item-not-found", `No such account: ${missing.join(", ")}`);
        return `Deleted ${deleted.join(", ")}${missing.length ? `; no such account: ${missing.join(", ")}` : ""}`;
      },
    );

    // §4.7 Change User Password
    formCommand(
      adhoc,
      "change-user-password",
      "Change a user's password",
      [
        { var: "accountjid", type: "jid-single", label: "The account", required: true },
        { var: "password", type: "text-private", label: "The new password", required: true },
      ],
      async (form) => {
        const [jid] = accountsOf(form, "accountjid", host) as [Jid];
        const password = fieldValue(form, "password");
        if (!password) throw new StanzaError("modify", "bad-request", "The password is required");
        if (!(await accounts.exists(jid.local)))
          throw new StanzaError("cancel", "item-not-found", `No such account: ${jid}`);
        await accounts.setPassword(jid.local, password).catch(accountError);
        return `Changed the password of ${jid}`;
      },
    );

    /** Accounts of this host with at least one bound session, sorted. */
    const online = () => {
      const users = new Set<string>();
      for (const s of ctx.sessions.all()) if (s.host === host) users.add(s.jid.bareString);
      return [...users].sort();
    };

    const result = (fields: FieldSpec[]) =>
      ({ status: "completed", form: dataForm("result", { formType: ADMIN, fields }) }) as const;

    // §4.20 Get List of Online Users: few enough on a family server to answer at once (the XEP allows it).
    adhoc.add({
      node: node("get-online-users-list"),
      name: "List online users",
      allowed: (jid) => adhoc.isAdmin(jid),
      run: () => result([{ var: "onlineuserjids", type: "jid-multi", label: "Online users", values: online() }]),
    });

    // §4.15 Get Number of Online Users
    adhoc.add({
      node: node("get-online-users-num"),
      name: "Number of online users",
      allowed: (jid) => adhoc.isAdmin(jid),
      run: () =>
        result([
          { var: "onlineusersnum", type: "text-single", label: "Online users", values: [String(online().length)] },
        ]),
    });

    // §4.13 Get Number of Registered Users
    adhoc.add({
      node: node("get-registered-users-num"),
      name: "Number of registered users",
      allowed: (jid) => adhoc.isAdmin(jid),
      run: async () =>
        result([
          {
            var: "registeredusersnum",
            type: "text-single",
            label: "Registered users",
            values: [String(await ctx.storage.accounts.count(host))],
          },
        ]),
    });

    // §4.23 Send Announcement to Online Users: one message to every session of this host, now; nobody offline
    // gets it later, and it is not archived (it is sent to the sessions, not routed to the accounts).
    formCommand(
      adhoc,
      "announce",
      "Send an announcement to online users",
      [{ var: "announcement", type: "text-multi", label: "Announcement", required: true }],
      async (form) => {
        const text = fieldValues(form, "announcement").join("\n").trim();
        if (text === "") throw new StanzaError("modify", "bad-request", "The announcement is empty");
        let sent = 0;
        for (const s of ctx.sessions.all()) {
          if (s.host !== host) continue;
          s.send(xml("message", { from: host, to: s.jid.toString() }, xml("body", null, text)));
          sent++;
        }
        ctx.log.info({ sessions: sent }, "announcement sent");
        return `Sent to ${sent} session${sent === 1 ? "" : "s"}`;
      },
    );
  },
};
