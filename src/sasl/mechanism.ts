/**
 * Server-side SASL (RFC 4422) as used by XMPP (RFC 6120 §6): the mechanism interface the c2s stream drives, and
 * the factory for the mechanisms we implement.
 */
import type { ScramHash, ScramRecord } from "../storage/types.ts";
import { PlainMechanism } from "./plain.ts";
import { ScramMechanism } from "./scram.ts";

/** RFC 6120 §6.5 failure conditions. */
export type SaslFailureCondition =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure";

/** What a mechanism answers to one client message. */
export type SaslStep =
  | { type: "challenge"; data: Buffer }
  | {
      type: "success";
      /** Additional data with success (SCRAM's server-final-message). */
      data?: Buffer;
      /** The authcid as sent by the client (not yet normalized). */
      username: string;
      /** The authzid if the client sent one: a normalized bare JID whose localpart is the authcid's. The caller
       *  still has to check its domain. */
      authzid?: string;
    }
  | { type: "failure"; condition: SaslFailureCondition; text?: string };

/** What a mechanism needs from the connection and the account store. */
export interface SaslContext {
  /** Stored SCRAM record for this user and hash, or null if no such user (then the mechanism must still behave
   *  indistinguishably: continue with a fake salt and fail at the end, to not reveal account existence). */
  getScram(username: string, hash: ScramHash): Promise<ScramRecord | null>;
  /** Channel binding data for a type (e.g. "tls-exporter", "tls-server-end-point"), or null if unavailable. */
  channelBinding(type: string): Buffer | null;
  /** Channel binding types this connection supports, in preference order (empty without TLS). */
  channelBindingTypes: string[];
  /** True if the server offered (would offer) at least one -PLUS mechanism on this connection: for the 'y' flag check
   *  (RFC 5802 §6: a client saying 'y' when the server did advertise PLUS is a downgrade → fail). */
  plusAdvertised: boolean;
  /** PBKDF2 iteration count of newly stored credentials (`auth.scram_iterations`), used for the fake records of
   *  unknown users so that they look like real ones. Defaults to DEFAULT_SCRAM_ITERATIONS. */
  scramIterations?: number;
}

/** One server-side authentication exchange. */
export interface SaslMechanism {
  readonly name: string;
  /** First message (initial response; null if the client sent none — then return an empty challenge). */
  start(initial: Buffer | null): Promise<SaslStep>;
  step(response: Buffer): Promise<SaslStep>;
}

/** Names of all SCRAM mechanisms the module implements, strongest first. */
export const SCRAM_MECHANISMS: readonly string[] = [
  "SCRAM-SHA-512-PLUS",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-512",
  "SCRAM-SHA-256",
  "SCRAM-SHA-1",
];

/** Creates a server-side mechanism by name (SCRAM-*, PLAIN), or null if unknown. */
export function createMechanism(name: string, ctx: SaslContext): SaslMechanism | null {
  if (name === "PLAIN") return new PlainMechanism(ctx);
  if (SCRAM_MECHANISMS.includes(name)) return new ScramMechanism(name, ctx);
  return null;
}
