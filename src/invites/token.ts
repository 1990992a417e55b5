import { randomBytes } from "node:crypto";

// RFC 4648 base32 alphabet, lowercase: letters and digits only, so a token survives URIs, QR codes and
// being read out loud (XEP-0379 §6.1 suggests base32 and at least 80 bits).
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** Length of a token: 26 characters carry 130 random bits. */
export const TOKEN_LENGTH = 26;

/** A new invitation token from a cryptographically secure source. */
export function newInviteToken(): string {
  const bytes = randomBytes(TOKEN_LENGTH);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/** True if `s` has the shape of a token we issue (cheap check before a database lookup). */
export function looksLikeToken(s: string): boolean {
  return s.length === TOKEN_LENGTH && /^[a-z2-7]+$/.test(s);
}
