/**
 * Fake SCRAM records for unknown users, so that an exchange for a missing account looks like one for an existing
 * account with a wrong password (RFC 5802 §9 notes the salt would otherwise reveal account existence).
 */
import { createHmac, randomBytes } from "node:crypto";
import { normalizeLocal } from "../jid/jid.ts";
import type { ScramHash, ScramRecord } from "../storage/types.ts";
import { digestLength, SALT_BYTES } from "./credentials.ts";

// Per process: the same username gets the same fake salt on every attempt (a changing salt would give it away),
// yet nobody can predict it.
const secret = randomBytes(32);

function derive(label: string, hash: ScramHash, username: string, length: number): string {
  return createHmac("sha512", secret)
    .update(`${label}\0${hash}\0${username}`)
    .digest()
    .subarray(0, length)
    .toString("base64");
}

/** A deterministic, unguessable record for a username that has no account. */
export function fakeScramRecord(username: string, hash: ScramHash, iterations: number): ScramRecord {
  // Spellings of one name that normalize alike must get the same salt, as they would for a real account.
  let key = username;
  try {
    key = normalizeLocal(username);
  } catch {
    // Not a valid localpart: no account can exist, any stable key will do.
  }
  return {
    salt: derive("salt", hash, key, SALT_BYTES),
    iterations,
    storedKey: derive("stored-key", hash, key, digestLength(hash)),
    serverKey: derive("server-key", hash, key, digestLength(hash)),
  };
}
