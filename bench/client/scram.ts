import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** The SCRAM hash functions the bench client speaks (RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256). */
export type ScramHash = "sha1" | "sha256";

/** SASL mechanism name → hash. No channel binding (-PLUS): the bench never asks for it. */
export const SCRAM_MECHANISMS: Record<string, ScramHash> = {
  "SCRAM-SHA-1": "sha1",
  "SCRAM-SHA-256": "sha256",
};

// Every bench account shares one password, and some servers also share the salt (copied Prosody accounts), so the
// salted password is cached: the load generator must not spend its CPU on PBKDF2 that a real client would cache too.
const saltedCache = new Map<string, Buffer>();
const SALTED_CACHE_MAX = 20_000;

function saltedPassword(hash: ScramHash, password: string, salt: Buffer, iterations: number): Buffer {
  const key = `${hash}\0${iterations}\0${salt.toString("base64")}\0${password}`;
  let salted = saltedCache.get(key);
  if (salted === undefined) {
    salted = pbkdf2Sync(password, salt, iterations, hash === "sha1" ? 20 : 32, hash);
    if (saltedCache.size >= SALTED_CACHE_MAX) saltedCache.clear();
    saltedCache.set(key, salted);
  }
  return salted;
}

/** RFC 5802 §5.1: '=' and ',' in the username are escaped as =3D and =2C. */
function saslName(user: string): string {
  return user.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function parseAttributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(",")) {
    const eq = part.indexOf("=");
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

/**
 * A SCRAM client exchange (RFC 5802 §3): `first()` → server-first → `final()` → server-final → `verify()`.
 * Usernames and passwords are used as given (bench accounts are ASCII, so SASLprep is the identity).
 */
export class ScramClient {
  private readonly clientFirstBare: string;
  private serverSignature: Buffer | undefined;

  constructor(
    private readonly hash: ScramHash,
    username: string,
    private readonly password: string,
    private readonly nonce: string = randomBytes(18).toString("base64"),
  ) {
    this.clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  }

  /** The client-first-message (gs2 header "n,," = no channel binding, no authzid). */
  first(): string {
    return "n,," + this.clientFirstBare;
  }

  /** Computes the client-final-message from the server-first-message. Throws on a malformed or unsafe challenge. */
  final(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get("r");
    const saltB64 = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (nonce === undefined || saltB64 === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error(`malformed SCRAM server-first-message: ${serverFirst}`);
    }
    // RFC 5802 §5.1: the server nonce must extend ours, or the exchange could be replayed.
    if (!nonce.startsWith(this.nonce)) throw new Error("SCRAM server nonce does not start with the client nonce");
    const salted = saltedPassword(this.hash, this.password, Buffer.from(saltB64, "base64"), iterations);
    const clientKey = hmac(this.hash, salted, "Client Key");
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`; // biws = base64("n,,")
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.serverSignature = hmac(this.hash, hmac(this.hash, salted, "Server Key"), authMessage);
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** Checks the server-final-message ("v=..."), proving the server knew the password (RFC 5802 §3). */
  verify(serverFinal: string): boolean {
    const v = parseAttributes(serverFinal).get("v");
    if (v === undefined || this.serverSignature === undefined) return false;
    const got = Buffer.from(v, "base64");
    return got.length === this.serverSignature.length && timingSafeEqual(got, this.serverSignature);
  }
}

function hmac(hash: ScramHash, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data).digest();
}
