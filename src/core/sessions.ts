import { randomBytes } from "node:crypto";
import type { Jid } from "../jid/jid.ts";
import { StanzaError, StreamError } from "./errors.ts";
import type { C2sSession } from "./session.ts";

/**
 * The registry of bound client sessions: full JID → session, bare JID → resources.
 * Binding policy for a resource already in use: the new session wins and the old one is closed with
 * a `conflict` stream error (RFC 6120 §7.7.2.2, the policy most clients expect on reconnect).
 */
export class SessionManager {
  private readonly byBare = new Map<string, Map<string, C2sSession>>();
  private total = 0;

  constructor(private readonly maxResources: number) {}

  /** Picks the resource for a bind request, closing a conflicting session. Throws StanzaError. */
  bind(session: C2sSession, bare: Jid, resource: string): void {
    const key = bare.toString();
    let resources = this.byBare.get(key);
    const existing = resources?.get(resource);
    if (existing && existing !== session) {
      this.unbind(existing);
      existing.close(new StreamError("conflict", "Replaced by new connection"));
      resources = this.byBare.get(key);
    }
    if (resources && resources.size >= this.maxResources) {
      // RFC 6120 §7.6.2.1
      throw new StanzaError("wait", "resource-constraint", "Too many resources bound for this account");
    }
    if (!resources) {
      resources = new Map();
      this.byBare.set(key, resources);
    }
    resources.set(resource, session);
    this.total++;
  }

  /** Removes a session if it is the one registered under its JID. Returns whether it was. */
  unbind(session: C2sSession): boolean {
    const key = session.jid.bareString;
    const resources = this.byBare.get(key);
    if (!resources || resources.get(session.resource) !== session) return false;
    resources.delete(session.resource);
    if (resources.size === 0) this.byBare.delete(key);
    this.total--;
    return true;
  }

  get(full: Jid): C2sSession | undefined {
    return this.byBare.get(full.bareString)?.get(full.resource);
  }

  /** All bound resources of an account (any presence state). */
  resources(bare: Jid | string): C2sSession[] {
    const r = this.byBare.get(typeof bare === "string" ? bare : bare.bareString);
    return r ? [...r.values()] : [];
  }

  /** True if the account has at least one bound session. */
  isOnline(bare: Jid | string): boolean {
    return this.byBare.has(typeof bare === "string" ? bare : bare.bareString);
  }

  /** Every bound session. */
  *all(): IterableIterator<C2sSession> {
    for (const r of this.byBare.values()) yield* r.values();
  }

  get count(): number {
    return this.total;
  }

  /** Number of distinct accounts online. */
  get accounts(): number {
    return this.byBare.size;
  }
}

/** A server-generated resource (RFC 6120 §7.6.2.1): unguessable, so it cannot be used to probe presence. */
export function generateResource(): string {
  return `hearth-${randomBytes(6).toString("hex")}`;
}
