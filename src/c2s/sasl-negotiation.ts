import type { AuthThrottle } from "../core/auth-throttle.ts";
import { normalizeLocal } from "../jid/jid.ts";
import { createMechanism, type SaslFailureCondition, type SaslMechanism, type SaslStep } from "../sasl/mechanism.ts";
import type { ScramHash, Storage } from "../storage/types.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import type { StreamTransport } from "./transport.ts";

const SCRAM = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"];

/** Attempts of any kind allowed on one connection before it is closed. */
const MAX_ATTEMPTS = 10;

/** Outcome of one SASL element, for the stream to act on. */
export type SaslOutcome =
  | { kind: "continue" }
  | { kind: "success"; username: string }
  | { kind: "failure"; tooMany: boolean };

export interface SaslNegotiationOptions {
  host: string;
  storage: Storage;
  transport: StreamTransport;
  requireEncryption: boolean;
  allowPlain: boolean;
  maxFailures: number;
  /** Iteration count for the indistinguishable fake records of unknown users. */
  scramIterations: number;
  throttle: AuthThrottle;
  send(el: XmlElement): void;
}

/**
 * The SASL exchange of RFC 6120 §6 for one connection: which mechanisms to offer, the
 * auth/challenge/response/success/failure/abort dance, failure counting.
 */
export class SaslNegotiation {
  private mech: SaslMechanism | null = null;
  private failures = 0;
  private attempts = 0;

  constructor(private readonly opts: SaslNegotiationOptions) {}

  /** Mechanisms offered on this connection, strongest first. PLAIN only over TLS. */
  mechanisms(): string[] {
    const t = this.opts.transport;
    if (!t.secure && this.opts.requireEncryption) return [];
    const out: string[] = [];
    if (t.secure && t.channelBindingTypes.length > 0) out.push(...SCRAM.map((m) => `${m}-PLUS`));
    out.push(...SCRAM);
    if (t.secure && this.opts.allowPlain) out.push("PLAIN");
    return out;
  }

  /** The `<mechanisms/>` feature plus the XEP-0440 channel-binding types, or nothing to offer. */
  features(): XmlElement[] {
    const mechs = this.mechanisms();
    if (mechs.length === 0) return [];
    const out = [xml("mechanisms", { xmlns: NS.sasl }, ...mechs.map((m) => xml("mechanism", null, m)))];
    const cb = this.opts.transport.channelBindingTypes;
    if (cb.length > 0) {
      out.push(
        xml(
          "sasl-channel-binding",
          { xmlns: NS.saslChannelBinding },
          ...cb.map((type) => xml("channel-binding", { type })),
        ),
      );
    }
    return out;
  }

  /** Handles `<auth/>`, `<response/>` or `<abort/>`. */
  async handle(el: XmlElement): Promise<SaslOutcome> {
    switch (el.name) {
      case "auth":
        return this.auth(el);
      case "response":
        if (!this.mech) return this.fail("malformed-request", "No authentication in progress");
        return this.step(
          await this.decodeAndRun(el, (data) => (this.mech as SaslMechanism).step(data ?? Buffer.alloc(0))),
        );
      case "abort":
        this.mech = null;
        return this.fail("aborted");
      default:
        return this.fail("malformed-request", `Unexpected SASL element <${el.name}/>`);
    }
  }

  private async auth(el: XmlElement): Promise<SaslOutcome> {
    const name = el.attrs.mechanism ?? "";
    const t = this.opts.transport;
    if (!t.secure && this.opts.requireEncryption) return this.fail("encryption-required");
    if (!this.mechanisms().includes(name)) {
      // RFC 6120 §6.4.2: PLAIN without TLS is "too weak", anything else we do not offer is invalid.
      return this.fail(name === "PLAIN" && !t.secure ? "mechanism-too-weak" : "invalid-mechanism");
    }
    if (!this.opts.throttle.allowed(t.remoteAddress)) {
      return this.fail("temporary-auth-failure", "Too many failed attempts from your address; try again later");
    }
    const { host, storage } = this.opts;
    this.mech = createMechanism(name, {
      async getScram(username: string, hash: ScramHash) {
        let local: string;
        try {
          local = normalizeLocal(username);
        } catch {
          return null;
        }
        const account = await storage.accounts.get(host, local);
        return account?.credentials[hash] ?? null;
      },
      channelBinding: (type) => t.channelBinding(type),
      channelBindingTypes: t.channelBindingTypes,
      // COMPAT: slixmpp 1.8 (and other clients that only know tls-unique, which TLS 1.3 does not have)
      // answer our -PLUS offer with the 'y' flag. RFC 5802 §6 calls that a downgrade, but a client that
      // cannot use any type we support (XEP-0440) has no other honest answer, so we accept it.
      plusAdvertised: false,
      scramIterations: this.opts.scramIterations,
    });
    if (!this.mech) return this.fail("invalid-mechanism");
    const mech = this.mech;
    return this.step(await this.decodeAndRun(el, (data) => mech.start(data)));
  }

  /** RFC 6120 §6.4.2: empty text = no initial response, "=" = empty response, otherwise base64. */
  private async decodeAndRun(el: XmlElement, run: (data: Buffer | null) => Promise<SaslStep>): Promise<SaslStep> {
    const text = el.text().trim();
    if (text === "") return run(null);
    if (text === "=") return run(Buffer.alloc(0));
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
      return { type: "failure", condition: "incorrect-encoding" };
    }
    return run(Buffer.from(text, "base64"));
  }

  private step(step: SaslStep): SaslOutcome {
    if (step.type === "challenge") {
      this.opts.send(xml("challenge", { xmlns: NS.sasl }, step.data.length ? step.data.toString("base64") : "="));
      return { kind: "continue" };
    }
    if (step.type === "failure") {
      this.mech = null;
      return this.fail(step.condition, step.text);
    }
    this.mech = null;
    let username: string;
    try {
      username = normalizeLocal(step.username);
    } catch {
      return this.fail("not-authorized");
    }
    // We do not support acting as another user: an authzid must name the authenticated account.
    if (step.authzid && step.authzid !== `${username}@${this.opts.host}`) return this.fail("invalid-authzid");
    this.opts.send(xml("success", { xmlns: NS.sasl }, step.data?.length ? step.data.toString("base64") : undefined));
    return { kind: "success", username };
  }

  private fail(condition: SaslFailureCondition, text?: string): SaslOutcome {
    this.opts.send(
      xml("failure", { xmlns: NS.sasl }, xml(condition), text ? xml("text", { "xml:lang": "en" }, text) : undefined),
    );
    if (condition === "aborted") return { kind: "failure", tooMany: false };
    this.attempts++;
    // Only wrong credentials count towards the retry limit (RFC 6120 §6.4.5) and the per-address
    // throttle; protocol mismatches (e.g. a client trying each -PLUS variant with a channel binding type
    // we do not support) do not, but the total number of attempts is still bounded.
    if (condition === "not-authorized") {
      this.failures++;
      this.opts.throttle.recordFailure(this.opts.transport.remoteAddress);
    }
    return {
      kind: "failure",
      tooMany: this.failures >= this.opts.maxFailures || this.attempts >= MAX_ATTEMPTS,
    };
  }
}
