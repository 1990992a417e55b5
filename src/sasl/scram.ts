/**
 * Server side of SCRAM (RFC 5802; SCRAM-SHA-256 RFC 7677; SHA-512 by the same rules) with channel binding
 * (the -PLUS variants, RFC 5802 §6; binding types e.g. tls-exporter RFC 9266, tls-server-end-point RFC 5929).
 *
 * Exchange: client-first → server-first (challenge) → client-final → server-final (success data "v=...").
 * Every failure ends the exchange. An unknown user gets a fake record and fails exactly like a wrong password.
 */
import { randomBytes } from "node:crypto";
import type { ScramHash, ScramRecord } from "../storage/types.ts";
import { ownAuthzid } from "./authzid.ts";
import { DEFAULT_SCRAM_ITERATIONS, h, hmac, safeEqual } from "./credentials.ts";
import { fakeScramRecord } from "./fake.ts";
import type { SaslContext, SaslFailureCondition, SaslMechanism, SaslStep } from "./mechanism.ts";
import { type ClientFirst, parseClientFinal, parseClientFirst, ScramSyntaxError } from "./scram-messages.ts";
import { decodeUtf8 } from "./utf8.ts";

/** Options for tests. */
export interface ScramOptions {
  /** Fixed server nonce part (must be printable ASCII without ','), to replay the RFC test vectors. */
  serverNonce?: string;
}

// Client messages are short; anything larger is not SCRAM (a username is at most 1023 bytes, ×3 when escaped).
const MAX_MESSAGE_BYTES = 8192;

function failure(condition: SaslFailureCondition, text?: string): SaslStep {
  return text === undefined ? { type: "failure", condition } : { type: "failure", condition, text };
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Server-side SCRAM-SHA-{1,256,512}[-PLUS]. */
export class ScramMechanism implements SaslMechanism {
  readonly name: string;
  readonly #hash: ScramHash;
  readonly #plus: boolean;
  readonly #ctx: SaslContext;
  readonly #options: ScramOptions;
  #state: "client-first" | "client-final" | "done" = "client-first";
  // Set by the client-first step.
  #first: ClientFirst | undefined;
  #authzid: string | undefined;
  #cbData: Buffer = Buffer.alloc(0);
  #record: ScramRecord | undefined;
  #known = false;
  #nonce = "";
  #serverFirst = "";

  constructor(name: string, ctx: SaslContext, options: ScramOptions = {}) {
    const m = /^SCRAM-(SHA-1|SHA-256|SHA-512)(-PLUS)?$/.exec(name);
    if (!m) throw new Error(`not a SCRAM mechanism: ${name}`);
    this.name = name;
    this.#hash = m[1] as ScramHash;
    this.#plus = m[2] !== undefined;
    this.#ctx = ctx;
    this.#options = options;
  }

  async start(initial: Buffer | null): Promise<SaslStep> {
    // RFC 6120 §6.4.2: without an initial response the server sends an empty challenge and waits for it.
    if (initial === null) return { type: "challenge", data: Buffer.alloc(0) };
    return this.step(initial);
  }

  async step(response: Buffer): Promise<SaslStep> {
    const state = this.#state;
    this.#state = "done"; // until a step succeeds; also guards against overlapping calls
    if (state === "done") return failure("malformed-request", "the exchange is over");
    if (response.length > MAX_MESSAGE_BYTES) return failure("malformed-request", "message too long");
    const msg = decodeUtf8(response);
    if (msg === null) return failure("malformed-request", "message is not UTF-8");
    try {
      return state === "client-first" ? await this.#clientFirst(msg) : this.#clientFinal(msg);
    } catch (err) {
      if (err instanceof ScramSyntaxError) return failure("malformed-request", err.message);
      throw err;
    }
  }

  /** The channel binding rules of RFC 5802 §6; returns a failure or null if the flag is acceptable. */
  #checkChannelBinding(first: ClientFirst): SaslStep | null {
    const { cbind } = first;
    if (cbind.kind === "p") {
      if (!this.#plus) return failure("malformed-request", `channel binding requires ${this.name}-PLUS`);
      const data = this.#ctx.channelBindingTypes.includes(cbind.type) ? this.#ctx.channelBinding(cbind.type) : null;
      if (data === null) return failure("malformed-request", `unsupported channel binding type '${cbind.type}'`);
      this.#cbData = data;
      return null;
    }
    if (this.#plus) return failure("malformed-request", `${this.name} requires channel binding`);
    // 'y': the client could bind but believes we cannot. If we did advertise -PLUS, someone removed it on the way.
    if (cbind.kind === "y" && this.#ctx.plusAdvertised) return failure("not-authorized", "channel binding downgrade");
    return null;
  }

  async #clientFirst(msg: string): Promise<SaslStep> {
    const first = parseClientFirst(msg);
    const cbFailure = this.#checkChannelBinding(first);
    if (cbFailure) return cbFailure;
    if (first.authzid !== null) {
      const authzid = ownAuthzid(first.authzid, first.username);
      if (authzid === null) return failure("invalid-authzid");
      this.#authzid = authzid;
    }

    const record = await this.#ctx.getScram(first.username, this.#hash);
    this.#known = record !== null;
    this.#record =
      record ?? fakeScramRecord(first.username, this.#hash, this.#ctx.scramIterations ?? DEFAULT_SCRAM_ITERATIONS);
    this.#first = first;
    this.#nonce = first.nonce + (this.#options.serverNonce ?? randomBytes(18).toString("base64"));
    // Re-encoding normalizes whatever base64 the store holds.
    const salt = Buffer.from(this.#record.salt, "base64").toString("base64");
    this.#serverFirst = `r=${this.#nonce},s=${salt},i=${this.#record.iterations}`;
    this.#state = "client-final";
    return { type: "challenge", data: Buffer.from(this.#serverFirst, "utf8") };
  }

  #clientFinal(msg: string): SaslStep {
    const final = parseClientFinal(msg);
    const first = this.#first!;
    const record = this.#record!;
    // RFC 5802 §5.1 c=: base64 of the gs2 header followed by the channel binding data (none for 'n' and 'y').
    const expected = Buffer.concat([Buffer.from(first.gs2Header, "utf8"), this.#cbData]).toString("base64");
    if (final.channelBinding !== expected) return failure("not-authorized", "channel binding mismatch");
    if (final.nonce !== this.#nonce) return failure("not-authorized", "nonce mismatch");

    // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); accept if H(ClientKey) = StoredKey.
    const authMessage = `${first.bare},${this.#serverFirst},${final.withoutProof}`;
    const storedKey = Buffer.from(record.storedKey, "base64");
    const clientSignature = hmac(this.#hash, storedKey, authMessage);
    const proofOk =
      final.proof.length === clientSignature.length &&
      safeEqual(h(this.#hash, xor(final.proof, clientSignature)), storedKey);
    // Same answer for an unknown user as for a wrong password.
    if (!proofOk || !this.#known) return failure("not-authorized");

    const serverSignature = hmac(this.#hash, Buffer.from(record.serverKey, "base64"), authMessage);
    const step: SaslStep = {
      type: "success",
      data: Buffer.from(`v=${serverSignature.toString("base64")}`, "utf8"),
      username: first.username,
    };
    if (this.#authzid !== undefined) step.authzid = this.#authzid;
    return step;
  }
}
