/**
 * Signed upload URLs. A slot is stateless until its file arrives: the PUT URL carries the slot's limits
 * (size, content type, expiry) and an HMAC over them and the path, made with a secret that never leaves the
 * server. Reuse is caught by the slot id, which becomes the file's record (see put.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** How long a slot's PUT URL stays valid (XEP-0363 leaves it to the service). */
export const SLOT_LIFETIME_MS = 5 * 60_000;

/** What a PUT URL promises. */
export interface SlotClaims {
  id: string;
  /** The uploader's bare JID: the account the file and its quota belong to. */
  owner: string;
  /** The sanitized file name (the last path segment, decoded). */
  filename: string;
  size: number;
  /** The content type the client declared in its slot request, or "" if it declared none. */
  contentType: string;
  /** Unix time in seconds after which the URL is refused. */
  expires: number;
}

function message(c: SlotClaims): string {
  // JIDs, sanitized file names and content types contain no newlines, so the fields cannot run together.
  return `hearth-upload-v1\n${c.id}\n${c.owner}\n${c.filename}\n${c.size}\n${c.contentType}\n${c.expires}`;
}

/** The signature for a slot, base64url. */
export function signSlot(secret: Buffer, claims: SlotClaims): string {
  return createHmac("sha256", secret).update(message(claims)).digest("base64url");
}

/** Checks a signature in constant time. */
export function verifySlot(secret: Buffer, claims: SlotClaims, signature: string): boolean {
  const expected = Buffer.from(signSlot(secret, claims), "base64url");
  const given = Buffer.from(signature, "base64url");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The secret's file in the data dir. Deleting it invalidates every outstanding PUT URL, nothing else. */
export const SECRET_FILE = "upload-secret";

/**
 * Reads the signing secret from the data dir, creating it (32 random bytes, hex, mode 0600) on first start.
 * Two processes starting at once agree on one secret: creation is exclusive, and the loser reads the winner's.
 */
export async function loadUploadSecret(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, SECRET_FILE);
  try {
    await writeFile(path, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const hex = (await readFile(path, "utf8")).trim();
  if (!/^[0-9a-f]{64,}$/i.test(hex)) throw new Error(`${path} is not a hex secret; delete it to create a new one`);
  return Buffer.from(hex, "hex");
}
