/**
 * Server side of PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in UTF-8, checked against the stored SCRAM
 * record of the strongest hash (no plaintext password is stored anywhere). Offering it only over TLS is the
 * caller's job.
 */
import type { ScramHash, ScramRecord } from "../storage/types.ts";
import { ownAuthzid } from "./authzid.ts";
import { DEFAULT_SCRAM_ITERATIONS, SCRAM_HASHES, verifyPassword } from "./credentials.ts";
import { fakeScramRecord } from "./fake.ts";
import type { SaslContext, SaslMechanism, SaslStep } from "./mechanism.ts";
import { decodeUtf8 } from "./utf8.ts";

const MAX_MESSAGE_BYTES = 8192;

/** Server-side PLAIN. */
export class PlainMechanism implements SaslMechanism {
  readonly name = "PLAIN";
  readonly #ctx: SaslContext;
  #done = false;

  constructor(ctx: SaslContext) {
    this.#ctx = ctx;
  }

  async start(initial: Buffer | null): Promise<SaslStep> {
    if (initial === null) return { type: "challenge", data: Buffer.alloc(0) };
    return this.step(initial);
  }

  async step(response: Buffer): Promise<SaslStep> {
    if (this.#done) return { type: "failure", condition: "malformed-request", text: "the exchange is over" };
    this.#done = true;
    const msg = response.length <= MAX_MESSAGE_BYTES ? decodeUtf8(response) : null;
    // RFC 4616 §2: exactly two NULs; authcid and passwd are not empty.
    const parts = msg?.split("\0");
    if (parts?.length !== 3 || parts[1] === "" || parts[2] === "") {
      return { type: "failure", condition: "malformed-request", text: "expected authzid NUL authcid NUL password" };
    }
    const [authzid, authcid, password] = parts as [string, string, string];
    let normalizedAuthzid: string | undefined;
    if (authzid !== "") {
      const own = ownAuthzid(authzid, authcid);
      if (own === null) return { type: "failure", condition: "invalid-authzid" };
      normalizedAuthzid = own;
    }

    if (!(await this.#check(authcid, password))) return { type: "failure", condition: "not-authorized" };
    const step: SaslStep = { type: "success", username: authcid };
    if (normalizedAuthzid !== undefined) step.authzid = normalizedAuthzid;
    return step;
  }

  async #check(authcid: string, password: string): Promise<boolean> {
    // Ask for every hash at once so that the lookups cost the same whether or not the account exists.
    const records = await Promise.all(SCRAM_HASHES.map((hash) => this.#ctx.getScram(authcid, hash)));
    const index = records.findIndex((r) => r !== null);
    let hash: ScramHash = SCRAM_HASHES[0]!;
    let record: ScramRecord;
    if (index === -1) {
      // Unknown user: spend the same PBKDF2 time on a fake record, then fail.
      record = fakeScramRecord(authcid, hash, this.#ctx.scramIterations ?? DEFAULT_SCRAM_ITERATIONS);
    } else {
      hash = SCRAM_HASHES[index]!;
      record = records[index]!;
    }
    const ok = await verifyPassword(password, record, hash);
    return ok && index !== -1;
  }
}
