import { AccountError, AccountExistsError, AccountManager } from "../accounts/manager.ts";
import { StanzaError } from "../core/errors.ts";
import type { PreAuthConnection, StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { isC2s } from "../core/session.ts";
import { errorReplyFrom, iqResult } from "../core/stanza.ts";
import { reservation } from "../invites/create.ts";
import { InviteError } from "../invites/errors.ts";
import { type JidError, normalizeLocal } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { dataForm, fieldValue, readForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";
import { RegistrationThrottle } from "./register/throttle.ts";

/** COMPAT: Conversations before XEP-0445 looked for this older XEP-0401 stream feature. */
const LEGACY_INVITE_FEATURE = "urn:xmpp:invite";
/** XEP-0077 §4 FORM_TYPE of the password change form. */
const CHANGE_PASSWORD_FORM = "jabber:iq:register:changepassword";

/** What a registration or password change request carries, from the legacy fields or the data form. */
interface Submitted {
  username: string | undefined;
  password: string | undefined;
  oldPassword: string | undefined;
}

function readSubmission(query: XmlElement): Submitted {
  const form = readForm(query);
  if (form) {
    return {
      username: fieldValue(form, "username"),
      password: fieldValue(form, "password"),
      oldPassword: fieldValue(form, "old_password"),
    };
  }
  const text = (name: string) => {
    const v = query.getChildText(name);
    return v === undefined || v === "" ? undefined : v;
  };
  return { username: text("username"), password: text("password"), oldPassword: undefined };
}

/** Turns a refused account or invitation request into the XEP-0077 §3.1 error (conflict, or not-acceptable). */
function registrationError(err: unknown): StanzaError {
  if (err instanceof StanzaError) return err;
  if (err instanceof AccountExistsError) return new StanzaError("cancel", "conflict", "That username is taken");
  if (err instanceof InviteError) {
    if (err.code === "username-taken") return new StanzaError("cancel", "conflict", err.message);
    if (err.code === "username-mismatch") return new StanzaError("modify", "not-acceptable", err.message);
    return new StanzaError("cancel", "not-allowed", err.message);
  }
  if (err instanceof AccountError) return new StanzaError("modify", "not-acceptable", err.message);
  throw err;
}

/**
 * XEP-0077 In-Band Registration: account creation before authentication (only while `registration.open`, or
 * with an invitation token presented first as XEP-0445 describes), and for logged-in users password change and
 * account removal (which deletes all of the user's data).
 */
export const registerModule: ModuleDefinition = {
  name: "register",
  specs: [
    { spec: "XEP-0077", version: "2.4", note: "registration off by default; password change; account removal" },
    { spec: "XEP-0445", version: "0.2.0", note: "registration with an invitation token" },
  ],
  load(ctx) {
    const host = ctx.host.name;
    const cfg = ctx.config.registration;
    const service = ctx.service("accounts");
    if (!service) throw new Error("the register module needs the accounts module");
    const accounts = service;
    const invites = cfg.allow_with_invite ? ctx.service("invites") : undefined;
    const throttle = new RegistrationThrottle(cfg.max_per_ip, 3_600_000);
    // Only to check an old password (XEP-0077 §4 change form); accounts change through the accounts service.
    const passwords = new AccountManager(ctx.storage, { iterations: ctx.config.auth.scram_iterations, hosts: [host] });

    /** Per connection: the invitation token it presented, and whether it already created an account. */
    const tokens = new WeakMap<PreAuthConnection, string>();
    const registered = new WeakSet<PreAuthConnection>();
    const mayRegister = (conn: PreAuthConnection) => cfg.open || tokens.has(conn);

    // XEP-0077 §2 / XEP-0445 §3: what this server lets an unauthenticated client do.
    if (cfg.open) {
      ctx.streamFeature({ stage: "pre-auth", element: () => xml("register", { xmlns: NS.registerFeature }) });
    }
    if (invites) {
      ctx.streamFeature({ stage: "pre-auth", element: () => xml("register", { xmlns: NS.ibrToken }) });
      ctx.streamFeature({ stage: "pre-auth", element: () => xml("register", { xmlns: LEGACY_INVITE_FEATURE }) });

      // XEP-0445 §4: the token is checked now, expiry included; it is only used once the account exists.
      ctx.preAuthIq(NS.pars, async (iq, conn) => {
        const token = iq.firstElement()?.attrs.token;
        if (iq.attrs.type !== "set" || iq.firstElement()?.name !== "preauth" || !token) {
          throw new StanzaError("modify", "bad-request", "Expected <preauth token='…'/> in an iq set");
        }
        try {
          await invites.checkRegistration(token);
        } catch (err) {
          if (!(err instanceof InviteError)) throw err;
          throw new StanzaError("cancel", "item-not-found", "The provided token is invalid or expired");
        }
        tokens.set(conn, token);
        conn.send(iqResult(iq));
      });
    }

    /** XEP-0077 §3.1 registration fields, pre-filled with the username an invitation reserves. */
    const registrationForm = async (conn: PreAuthConnection) => {
      const token = tokens.get(conn);
      const reserved = token ? ((await invites?.get(token))?.username ?? undefined) : undefined;
      const instructions = reserved
        ? `Choose a password for ${reserved}@${host}.`
        : `Choose a username and a password for your account on ${host}.`;
      return xml(
        "query",
        { xmlns: NS.register },
        xml("instructions", null, instructions),
        xml("username", null, reserved),
        xml("password"),
        // §4: a data form for clients that prefer one, with the same fields.
        dataForm("form", {
          formType: NS.register,
          title: `Create an account on ${host}`,
          instructions,
          fields: [
            {
              var: "username",
              type: "text-single",
              label: "Username",
              required: true,
              values: reserved ? [reserved] : [],
            },
            { var: "password", type: "text-private", label: "Password", required: true },
          ],
        }),
      );
    };

    ctx.preAuthIq(NS.register, async (iq, conn) => {
      const query = iq.firstElement() as XmlElement;
      if (query.name !== "query") throw new StanzaError("modify", "bad-request");
      if (!mayRegister(conn)) {
        throw new StanzaError(
          "cancel",
          "not-allowed",
          invites ? "Registration needs an invitation" : "Registration is closed on this server",
        );
      }
      if (iq.attrs.type === "get") {
        conn.send(iqResult(iq, await registrationForm(conn)));
        return;
      }
      if (iq.attrs.type !== "set") throw new StanzaError("modify", "bad-request");
      // §3.2: removing a registration before having one.
      if (query.getChild("remove"))
        throw new StanzaError("cancel", "unexpected-request", "Log in to remove your account");
      // §3.1: one account per connection; the client authenticates with it next.
      if (registered.has(conn)) throw new StanzaError("modify", "not-acceptable", "An account was already created");
      const { username, password } = readSubmission(query);
      // §3.1: every field of the form must be given; an empty password is no password.
      if (!username || !password) {
        throw new StanzaError("modify", "not-acceptable", "Both a username and a password are required");
      }
      const token = tokens.get(conn);
      try {
        if (token && invites) {
          await invites.register(token, username, password, { checkExpiry: false });
        } else {
          if (!throttle.allow(conn.remoteAddress)) {
            throw new StanzaError("wait", "resource-constraint", "Too many accounts created from your address");
          }
          let name: string;
          try {
            name = normalizeLocal(username.trim());
          } catch (e) {
            throw new StanzaError("modify", "not-acceptable", `Invalid username: ${(e as JidError).message}`);
          }
          // XEP-0445 §5: a username an invitation reserves is not for anyone else.
          if (await reservation(ctx.storage, host, name, Date.now())) {
            throw new StanzaError("cancel", "conflict", "That username is reserved");
          }
          await accounts.create(name, password);
          throttle.count(conn.remoteAddress);
        }
      } catch (err) {
        throw registrationError(err);
      }
      registered.add(conn);
      tokens.delete(conn);
      conn.send(iqResult(iq));
    });

    // ---- after authentication: the user's own registration --------------------------------------------------

    /** Only the account itself, from this host, may manage its registration. */
    const own = (ev: StanzaEvent): string => {
      if (
        ev.from.domain !== host ||
        ev.from.local === "" ||
        (ev.to.local !== "" && ev.to.bareString !== ev.from.bareString)
      ) {
        throw new StanzaError("cancel", "not-allowed");
      }
      return ev.from.local;
    };

    const get = async (ev: StanzaEvent) => {
      const username = own(ev);
      // §3.1: a registered entity gets <registered/> and its current username (never the password).
      return xml(
        "query",
        { xmlns: NS.register },
        xml("registered"),
        xml("instructions", null, "Send a new password to change it, or <remove/> to delete your account."),
        xml("username", null, username),
        xml("password"),
      );
    };
    ctx.iq("get", NS.register, get, "host");
    ctx.iq("get", NS.register, get, "bare");

    const answer = async (reply: XmlElement | null) => {
      if (reply) await ctx.send(reply);
      return true;
    };

    const set = async (ev: StanzaEvent) => {
      let username: string;
      try {
        username = own(ev);
      } catch (err) {
        return answer(errorReplyFrom(ev.stanza, err as StanzaError));
      }
      const query = ev.stanza.firstElement() as XmlElement;
      if (query.getChild("remove")) {
        // §3.2: <remove/> must be the only child.
        if (query.elements().length !== 1) {
          return answer(errorReplyFrom(ev.stanza, new StanzaError("modify", "bad-request")));
        }
        // The result goes out first; then every session of the account ends with not-authorized (§3.2).
        await ctx.send(iqResult(ev.stanza));
        await accounts.delete(username, "The account was removed");
        return true;
      }
      try {
        await changePassword(ev, username, query);
      } catch (err) {
        const e = err instanceof StanzaError ? err : registrationError(err);
        return answer(errorReplyFrom(ev.stanza, e));
      }
      return answer(iqResult(ev.stanza));
    };
    ctx.on(`iq-set/host/${NS.register}`, set);
    ctx.on(`iq-set/bare/${NS.register}`, set);

    /** XEP-0077 §3.3 password change (legacy fields, or the §4 changepassword form with the old password). */
    async function changePassword(ev: StanzaEvent, username: string, query: XmlElement): Promise<void> {
      // §3.3: a deployment may refuse password changes over an unencrypted stream.
      if (isC2s(ev.origin) && !ev.origin.secure) {
        throw new StanzaError("modify", "not-authorized", "Change your password over an encrypted connection");
      }
      const form = readForm(query);
      if (form?.formType !== undefined && form.formType !== CHANGE_PASSWORD_FORM && form.formType !== NS.register) {
        throw new StanzaError("modify", "bad-request", `Unknown form ${form.formType}`);
      }
      const sub = readSubmission(query);
      // §3.3: the password must not be set to nothing; the old one stays.
      if (!sub.password) throw new StanzaError("modify", "bad-request", "The new password is missing");
      if (sub.username !== undefined) {
        let given: string;
        try {
          given = normalizeLocal(sub.username.split("@")[0] ?? "");
        } catch {
          throw new StanzaError("modify", "bad-request", "The username is not yours");
        }
        if (given !== username) throw new StanzaError("modify", "bad-request", "The username is not yours");
      }
      if (sub.oldPassword !== undefined) {
        if (!(await passwords.authenticatePlain(`${username}@${host}`, sub.oldPassword))) {
          throw new StanzaError("auth", "not-authorized", "The old password is wrong");
        }
      }
      await accounts.setPassword(username, sub.password);
    }
  },
};
