/** Why an invitation cannot be created or used. */
export type InviteErrorCode =
  /** No such token (or never issued, or revoked). */
  | "invalid"
  | "expired"
  | "used-up"
  /** The token is a contact invitation only; it does not allow creating an account. */
  | "no-registration"
  /** The invitation reserves another username than the one asked for. */
  | "username-mismatch"
  /** The username is taken by an account or reserved by another invitation. */
  | "username-taken"
  /** A bad request to create one: host, contact, number of uses, expiry, username. */
  | "bad-request";

/** A refused invitation request; the message is for people (CLI output, stanza error text, the web page). */
export class InviteError extends Error {
  constructor(
    readonly code: InviteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "InviteError";
  }
}
