import { AccountError } from "../accounts/manager.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { serverSweep } from "../core/sweep.ts";
import { createInvite, isUsable, type NewInvite, reservation } from "../invites/create.ts";
import { InviteError } from "../invites/errors.ts";
import { looksLikeToken } from "../invites/token.ts";
import { inviteUrls } from "../invites/urls.ts";
import { type JidError, normalizeLocal } from "../jid/jid.ts";
import type { Invite } from "../storage/invites.ts";
import { xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { hasFrom, outbound } from "../xmpp/subscription-states.ts";
import type { RosterService } from "./im/roster-service.ts";
import { registerInviteCommands } from "./invites/commands.ts";

/** Invitations on a running host, for registration (XEP-0445), the web invite page and ad-hoc commands. */
export interface InvitesService {
  /** Creates an invitation for this host (see `createInvite`); throws InviteError. */
  create(req: Omit<NewInvite, "host">): Promise<Invite>;
  get(token: string): Promise<Invite | null>;
  /** The `xmpp:` URI and landing page address of an invitation. */
  urls(invite: Invite): { uri: string; landing: string | null };
  /**
   * The invitation if `token` lets its holder create an account now: it exists for this host, allows
   * registration, has uses left and has not expired (XEP-0445 §4 checks expiry here, when it is presented).
   * Throws InviteError otherwise.
   */
  checkRegistration(token: string): Promise<Invite>;
  /**
   * Creates an account with an invitation: the username must be the reserved one if there is one and not be
   * reserved by another invitation; the use is counted atomically; the new account and the invitation's contacts
   * get mutual presence subscriptions, pushed to the contacts' clients (XEP-0401 §5.6). `checkExpiry: false` when
   * the token was checked as it was presented (XEP-0445 §4). Throws InviteError, AccountError (invalid username
   * or password) or AccountExistsError.
   */
  register(token: string, username: string, password: string, opts?: { checkExpiry?: boolean }): Promise<Invite>;
}

declare module "../core/module.ts" {
  interface HostServices {
    invites: InvitesService;
  }
}

const HOUR = 3_600_000;

/** Makes `contact` a mutual contact of `username` (subscription both), keeping a name and groups already set. */
async function mutual(roster: RosterService, username: string, contact: string): Promise<void> {
  const item = await roster.getItem(username, contact);
  await roster.setItem(username, {
    jid: contact,
    name: item?.name ?? null,
    groups: item?.groups ?? [],
    subscription: "both",
    askOut: false,
    askIn: false,
    approved: false,
    pendingInStanza: null,
  });
}

function checkUsable(invite: Invite | null, host: string, now: number, checkExpiry: boolean): Invite {
  if (!invite || invite.host !== host) throw new InviteError("invalid", "The invitation is invalid");
  if (!invite.allowRegistration) {
    throw new InviteError("no-registration", "This invitation does not allow creating an account");
  }
  if (checkExpiry && invite.expiresAt <= now) throw new InviteError("expired", "The invitation has expired");
  if (invite.uses >= invite.maxUses) throw new InviteError("used-up", "The invitation has already been used");
  return invite;
}

/**
 * Invitations (XEP-0401 / XEP-0445 / XEP-0379): the `invites` service that registration and the web invite page
 * use, server-side approval of pre-authenticated subscription requests, the XEP-0401 ad-hoc commands, and the
 * sweep of expired invitations.
 */
export const invitesModule: ModuleDefinition = {
  name: "invites",
  specs: [
    { spec: "XEP-0401", version: "0.6.0", note: "invite and create-account commands" },
    { spec: "XEP-0379", version: "0.3.3", note: "server-side approval of pre-authenticated subscriptions" },
  ],
  async load(ctx) {
    const host = ctx.host.name;
    const storage = ctx.storage;
    const accounts = ctx.service("accounts");
    if (!accounts) throw new Error("the invites module needs the accounts module");
    const roster = () => ctx.service("roster");

    /** The stored invitation; a string that cannot be a token is not looked up. */
    const lookup = async (token: string) => (looksLikeToken(token) ? storage.invites.get(token) : null);

    const service: InvitesService = {
      create: (req) => createInvite(storage, ctx.config, { ...req, host }),
      get: (token) => storage.invites.get(token),
      urls: (invite) => inviteUrls(ctx.config, invite),
      async checkRegistration(token) {
        return checkUsable(await lookup(token), host, Date.now(), true);
      },
      async register(token, username, password, opts = {}) {
        const now = Date.now();
        const invite = checkUsable(await lookup(token), host, now, opts.checkExpiry ?? true);
        let name: string;
        try {
          name = normalizeLocal(username.trim());
        } catch (e) {
          throw new AccountError(`invalid username "${username}": ${(e as JidError).message}`);
        }
        if (invite.username !== null && invite.username !== name) {
          throw new InviteError("username-mismatch", `This invitation is for the username ${invite.username}`);
        }
        // XEP-0445 §5: a username reserved by another invitation stays reserved until that one expires.
        if (await reservation(storage, host, name, now, token)) {
          throw new InviteError("username-taken", `The username ${name} is reserved`);
        }
        await accounts.create(name, password);
        const jid = `${name}@${host}`;
        const used = await storage.invites.use(token, jid);
        if (!used) {
          // Someone else used the last use while the account was being created: undo.
          await accounts.delete(name, "The invitation was used up");
          throw new InviteError("used-up", "The invitation has already been used");
        }
        await befriend(name, used);
        ctx.log.info({ user: name, creator: used.creator, uses: used.uses }, "account created with an invitation");
        return used;
      },
    };
    ctx.provide("invites", service);

    /** XEP-0401 §5.6: the invitee and the invitation's contacts subscribe to each other; contacts get a push. */
    async function befriend(username: string, invite: Invite): Promise<void> {
      const r = roster();
      if (!r) return;
      const jid = `${username}@${host}`;
      for (const contact of invite.roster) {
        const local = contact.slice(0, contact.lastIndexOf("@"));
        if (contact === jid || !(await accounts?.exists(local))) continue;
        await mutual(r, username, contact);
        await mutual(r, local, jid);
      }
    }

    // XEP-0379 §3.5: a subscription request carrying a valid token of one of the user's invitations is approved
    // by the server on the user's behalf, and the user asks for the contact's presence in return. Anything
    // wrong with the token falls back to the normal request (§4.1), so this only ever adds.
    ctx.on(
      "presence/bare",
      async (ev) => {
        if (ev.stanza.attrs.type !== "subscribe") return undefined;
        const token = ev.stanza.getChild("preauth", NS.pars)?.attrs.token;
        const r = roster();
        if (!token || !r) return undefined;
        const user = ev.to.local;
        const contact = ev.from.bareString;
        if (contact === ev.to.bareString) return undefined;
        const invite = await lookup(token);
        if (!invite || invite.host !== host || !invite.roster.includes(ev.to.bareString)) return undefined;
        if (!isUsable(invite, Date.now()) || !(await accounts.exists(user))) return undefined;
        if (!(await storage.invites.use(token, contact))) return undefined;
        ctx.log.info({ user, contact }, "pre-authenticated subscription approved");
        // RFC 6121 §3.4 pre-approval: the presence module then approves the request as it processes it.
        await r.transition(user, contact, (cs) => ({
          forward: false,
          before: cs.state,
          next: cs.state,
          approved: !hasFrom(cs.state),
          autoReply: false,
        }));
        const t = await r.transition(user, contact, (cs) => outbound(cs.state, cs.approved, "subscribe"));
        if (t.forward) await ctx.send(xml("presence", { type: "subscribe", from: ev.to.bareString, to: contact }));
        return undefined;
      },
      10,
    );

    ctx.on("account.deleted", async ({ username }) => {
      await storage.invites.deleteByCreator(`${username}@${host}`);
    });

    const adhoc = ctx.service("adhoc");
    if (adhoc) registerInviteCommands(ctx, adhoc, service);

    await serverSweep(ctx, "invitation sweep", HOUR, async () => {
      const removed = await storage.invites.prune(Date.now());
      if (removed > 0) ctx.log.info({ removed }, "removed expired invitations");
    });
  },
};
