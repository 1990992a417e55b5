import type { KeyValueStore } from "../../storage/types.ts";
import type { XmlElement } from "../../xml/element.ts";
import { parseStoredStanza } from "../im/stored-stanza.ts";

/** The key-value store that holds push registrations. */
const STORE = "push";
/**
 * Most registrations kept per account. Every incoming message while the account is offline costs one iq per
 * registration, so without a bound one account could make the server flood any JID it names; a phone that was
 * wiped never disables its registration, so the oldest one gives way instead of refusing the newest device.
 */
export const MAX_REGISTRATIONS = 20;

/** One device's registration with an app server (XEP-0357 §5). */
export interface PushRegistration {
  /** The app server (XMPP Push Service) JID. */
  jid: string;
  /** The pubsub node the app server assigned to the device. */
  node: string;
  /** The publish-options form to include with every notification (usually carries the device's secret). */
  options: XmlElement | null;
}

interface Stored {
  jid: string;
  node: string;
  options: string | null;
  /** When it was (last) enabled, ms; absent in registrations stored before it was recorded. */
  at?: number;
}

function key(jid: string, node: string): string {
  return `${jid}\n${node}`;
}

/**
 * Registrations per account, persisted in the key-value store (one document per app server and node) and cached
 * in memory once read.
 */
export class PushRegistrations {
  private readonly cache = new Map<string, PushRegistration[]>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly host: string,
  ) {}

  async list(username: string): Promise<PushRegistration[]> {
    const cached = this.cache.get(username);
    if (cached) return cached;
    const out: PushRegistration[] = [];
    for (const k of await this.kv.keys(this.host, username, STORE)) {
      const raw = await this.kv.get(this.host, username, STORE, k);
      if (!raw) continue;
      const s = JSON.parse(raw) as Stored;
      out.push({ jid: s.jid, node: s.node, options: s.options ? parseStoredStanza(s.options) : null });
    }
    this.cache.set(username, out);
    return out;
  }

  /**
   * Adds a registration, or replaces the one for the same app server and node. Beyond `MAX_REGISTRATIONS` the
   * least recently enabled ones are removed.
   */
  async add(username: string, reg: PushRegistration): Promise<void> {
    const k = key(reg.jid, reg.node);
    const stored: Stored = { jid: reg.jid, node: reg.node, options: reg.options?.toString() ?? null, at: Date.now() };
    await this.kv.set(this.host, username, STORE, k, JSON.stringify(stored));
    this.cache.delete(username);
    const keys = await this.kv.keys(this.host, username, STORE);
    if (keys.length <= MAX_REGISTRATIONS) return;
    const ages: { key: string; at: number }[] = [];
    for (const other of keys) {
      if (other === k) continue;
      const raw = await this.kv.get(this.host, username, STORE, other);
      ages.push({ key: other, at: raw ? ((JSON.parse(raw) as Stored).at ?? 0) : 0 });
    }
    ages.sort((a, b) => a.at - b.at);
    for (const old of ages.slice(0, keys.length - MAX_REGISTRATIONS)) {
      await this.kv.delete(this.host, username, STORE, old.key);
    }
  }

  /** Removes one registration, or every one with that app server when `node` is undefined. Returns how many. */
  async remove(username: string, jid: string, node?: string): Promise<number> {
    let n = 0;
    for (const reg of await this.list(username)) {
      if (reg.jid !== jid || (node !== undefined && reg.node !== node)) continue;
      if (await this.kv.delete(this.host, username, STORE, key(reg.jid, reg.node))) n++;
    }
    this.cache.delete(username);
    return n;
  }

  async removeAll(username: string): Promise<void> {
    for (const k of await this.kv.keys(this.host, username, STORE)) await this.kv.delete(this.host, username, STORE, k);
    this.cache.delete(username);
  }
}
