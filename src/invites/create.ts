import { parseDuration } from "../config/duration.ts";
import type { HearthConfig } from "../config/types.ts";
import { type JidError, normalizeDomain, normalizeLocal, parseJid } from "../jid/jid.ts";
import type { Invite } from "../storage/invites.ts";
import { AlreadyExistsError, type Storage } from "../storage/types.ts";
import { InviteError } from "./errors.ts";
import { newInviteToken } from "./token.ts";

/** Most uses one invitation may have: a link for a family or a small community, not a public sign-up page. */
export const MAX_INVITE_USES = 1000;
/** Longest an invitation may be valid, in seconds (XEP-0379 §6.2: every token has a limited validity). */
export const MAX_INVITE_SECONDS = 365 * 86400;

/** What to invite for. */
export interface NewInvite {
  /** A served host; accounts are created there. */
  host: string;
  /** Bare JID of the account creating it; null for an administrator on the command line. */
  creator: string | null;
  /** Reserve this username for the invitee (XEP-0401 account creation). */
  username?: string | null;
  /** Local accounts of `host` the invitee becomes a mutual contact of (XEP-0379). */
  roster?: string[];
  /** The token also creates an account (default true). */
  allowRegistration?: boolean;
  /** Default 1 (single use). */
  maxUses?: number;
  /** Seconds until it expires; default `invites.default_expiry`. */
  expiresIn?: number;
}

/** True while an invitation can still be used at `now`. */
export function isUsable(invite: Invite, now: number): boolean {
  return invite.expiresAt > now && invite.uses < invite.maxUses;
}

/** Another usable invitation of `host` that reserves `username`, if any (XEP-0445 §5: reserved until expiry). */
export async function reservation(
  storage: Storage,
  host: string,
  username: string,
  now: number,
  except?: string,
): Promise<Invite | null> {
  for (const invite of await storage.invites.byUsername(host, username)) {
    if (invite.token !== except && isUsable(invite, now)) return invite;
  }
  return null;
}

/**
 * Checks and stores a new invitation, shared by `hearth invite` and the invitation commands on the running
 * server. Throws InviteError with a message for people.
 */
export async function createInvite(
  storage: Storage,
  config: HearthConfig,
  req: NewInvite,
  now = Date.now(),
): Promise<Invite> {
  let host: string;
  try {
    host = normalizeDomain(req.host);
  } catch {
    throw new InviteError("bad-request", `"${req.host}" is not a valid host`);
  }
  if (!config.hosts.includes(host)) {
    throw new InviteError("bad-request", `${host} is not a host of this server (hosts: ${config.hosts.join(", ")})`);
  }
  const maxUses = req.maxUses ?? 1;
  if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_INVITE_USES) {
    throw new InviteError("bad-request", `the number of uses must be from 1 to ${MAX_INVITE_USES}`);
  }
  const seconds = req.expiresIn ?? parseDuration(config.invites.default_expiry) ?? 7 * 86400;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_INVITE_SECONDS) {
    throw new InviteError("bad-request", "an invitation must expire within 365 days");
  }

  let username: string | null = null;
  if (req.username !== undefined && req.username !== null && req.username !== "") {
    try {
      username = normalizeLocal(req.username);
    } catch (e) {
      throw new InviteError("bad-request", `invalid username "${req.username}": ${(e as Error).message}`);
    }
    if (await storage.accounts.exists(host, username)) {
      throw new InviteError("username-taken", `the account ${username}@${host} already exists`);
    }
    if (await reservation(storage, host, username, now)) {
      throw new InviteError("username-taken", `${username}@${host} is already reserved by another invitation`);
    }
  }

  const roster: string[] = [];
  for (const contact of req.roster ?? []) {
    let jid: ReturnType<typeof parseJid>;
    try {
      jid = parseJid(contact.trim());
    } catch (e) {
      throw new InviteError("bad-request", `invalid contact "${contact}": ${(e as JidError).message}`);
    }
    if (jid.local === "" || jid.resource !== "" || jid.domain !== host) {
      throw new InviteError("bad-request", `the contact ${contact} must be an account of ${host} (user@${host})`);
    }
    if (!(await storage.accounts.exists(host, jid.local))) {
      throw new InviteError("bad-request", `there is no account ${jid.bareString}`);
    }
    if (!roster.includes(jid.bareString)) roster.push(jid.bareString);
  }

  const allowRegistration = req.allowRegistration ?? true;
  if (!allowRegistration && roster.length === 0) {
    throw new InviteError("bad-request", "an invitation that creates no account must name a contact");
  }
  for (let attempt = 1; ; attempt++) {
    const invite: Invite = {
      token: newInviteToken(),
      host,
      creator: req.creator,
      username,
      roster,
      allowRegistration,
      maxUses,
      uses: 0,
      usedBy: [],
      createdAt: now,
      expiresAt: now + seconds * 1000,
    };
    try {
      await storage.invites.create(invite);
      return invite;
    } catch (e) {
      // 130 random bits: a clash means the generator is broken, but trying once more costs nothing.
      if (!(e instanceof AlreadyExistsError) || attempt >= 3) throw e;
    }
  }
}
