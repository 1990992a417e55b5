/**
 * Invitations (XEP-0401 / XEP-0445 / XEP-0379): tokens that let their holder create an account, become a
 * contact of the inviter, or both. Created by `hearth invite`, by admins and users through ad-hoc commands,
 * and redeemed by in-band registration or a pre-authenticated subscription request.
 */

/** One invitation. Times are milliseconds since the epoch. */
export interface Invite {
  /** The secret in the link: random, URL-safe, unique. */
  token: string;
  /** The served host the invitation is for (accounts are created there). */
  host: string;
  /** Bare JID of the account that created it, or null when an administrator made it with `hearth invite`. */
  creator: string | null;
  /** A username reserved for the invitee (XEP-0401 account creation), or null to let them choose. */
  username: string | null;
  /** Bare JIDs of local accounts the invitee gets a mutual presence subscription with (XEP-0379). */
  roster: string[];
  /** The token lets its holder create an account (XEP-0445); false: only a contact invitation (XEP-0379). */
  allowRegistration: boolean;
  /** How many times it can be used (1: single use). */
  maxUses: number;
  uses: number;
  /** Bare JIDs that used it, oldest first. */
  usedBy: string[];
  createdAt: number;
  expiresAt: number;
}

/** Storage of invitations; tokens are globally unique. */
export interface InviteStore {
  /** Stores a new invitation. Rejects with `AlreadyExistsError` if the token is taken. */
  create(invite: Invite): Promise<void>;
  get(token: string): Promise<Invite | null>;
  /**
   * Counts one use by `usedBy` if the invitation exists and has uses left, atomically (two clients racing for a
   * single-use token cannot both win). Expiry is the caller's business (XEP-0445 checks it when the token is
   * presented, not when it is used). Returns the updated invitation, or null if nothing was counted.
   */
  use(token: string, usedBy: string): Promise<Invite | null>;
  /** Invitations of one host (every host when omitted), oldest first. */
  list(host?: string): Promise<Invite[]>;
  /** Invitations of a host that reserve `username`. */
  byUsername(host: string, username: string): Promise<Invite[]>;
  /** Revokes an invitation; returns whether it existed. */
  delete(token: string): Promise<boolean>;
  /** Removes the invitations an account created (account deletion); returns how many. */
  deleteByCreator(creator: string): Promise<number>;
  /** Removes invitations that expired at or before `now` (used-up ones stay listed until then); returns how many. */
  prune(now: number): Promise<number>;
}
