/**
 * SCRAM credentials (RFC 5802 §3): what we store instead of a password, derived with PBKDF2 off the event loop.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { opaqueString, PrecisError } from "../jid/precis.ts";
import type { AccountCredentials, ScramHash, ScramRecord } from "../storage/types.ts";

const pbkdf2Async = promisify(pbkdf2);

/** Hashes we store credentials for, strongest first. */
export const SCRAM_HASHES: readonly ScramHash[] = ["SHA-512", "SHA-256", "SHA-1"];

/** Iteration count when none is configured; RFC 7677 §4 asks for at least 4096. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

/** Salt length of new records, in bytes. */
export const SALT_BYTES = 16;

const DIGEST: Record<ScramHash, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512" };
const DIGEST_BYTES: Record<ScramHash, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-512": 64 };

/** Output length of the hash, in bytes. */
export function digestLength(hash: ScramHash): number {
  return DIGEST_BYTES[hash];
}

/** RFC 5802 §2.2 HMAC(key, str). */
export function hmac(hash: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(DIGEST[hash], key).update(data).digest();
}

/** RFC 5802 §2.2 H(str). */
export function h(hash: ScramHash, data: Buffer): Buffer {
  return createHash(DIGEST[hash]).update(data).digest();
}

/** Constant-time equality; false (without timing leak on content) for different lengths. */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Prepares a password with the OpaqueString profile (RFC 8265 §4.2, which replaces SASLprep for SCRAM). */
function preparePassword(password: string): string {
  try {
    return opaqueString(password);
  } catch (err) {
    if (err instanceof PrecisError) throw new Error(`invalid password: ${err.message}`);
    throw err;
  }
}

/** RFC 5802 §3: SaltedPassword = Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC. */
async function saltedPassword(prepared: string, hash: ScramHash, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(prepared, "utf8"), salt, iterations, DIGEST_BYTES[hash], DIGEST[hash]);
}

/** RFC 5802 §3: StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"). */
function keys(hash: ScramHash, salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  return {
    storedKey: h(hash, hmac(hash, salted, "Client Key")),
    serverKey: hmac(hash, salted, "Server Key"),
  };
}

/**
 * Derives one SCRAM record from a password (random 16-byte salt unless given). The password is prepared with the
 * OpaqueString profile; throws an Error naming the problem if that fails (e.g. a control character).
 */
export async function deriveScram(
  password: string,
  hash: ScramHash,
  iterations: number,
  salt?: Buffer,
): Promise<ScramRecord> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error("invalid iteration count");
  const saltBytes = salt ?? randomBytes(SALT_BYTES);
  const { storedKey, serverKey } = keys(
    hash,
    await saltedPassword(preparePassword(password), hash, saltBytes, iterations),
  );
  return {
    salt: saltBytes.toString("base64"),
    iterations,
    storedKey: storedKey.toString("base64"),
    serverKey: serverKey.toString("base64"),
  };
}

/** Derives records for all three hashes (what we store per account), each with its own salt. */
export async function deriveCredentials(password: string, iterations: number): Promise<AccountCredentials> {
  const records = await Promise.all(SCRAM_HASHES.map((hash) => deriveScram(password, hash, iterations)));
  const out: AccountCredentials = {};
  SCRAM_HASHES.forEach((hash, i) => {
    out[hash] = records[i];
  });
  return out;
}

/** Checks a plaintext password against a stored record (for PLAIN), constant-time. */
export async function verifyPassword(password: string, record: ScramRecord, hash: ScramHash): Promise<boolean> {
  let prepared: string;
  try {
    prepared = preparePassword(password);
  } catch {
    // Still spend the PBKDF2 time, so that an unpreparable password is not told apart by timing.
    prepared = "";
  }
  const salted = await saltedPassword(prepared, hash, Buffer.from(record.salt, "base64"), record.iterations);
  const ok = safeEqual(keys(hash, salted).storedKey, Buffer.from(record.storedKey, "base64"));
  return ok && prepared !== "";
}
