/** Users' blocklists (XEP-0191): stored in the key-value store, cached, and matched against addresses. */
import type { Jid } from "../../jid/jid.ts";
import type { KeyValueStore } from "../../storage/types.ts";

/** Key-value store holding one key per blocked JID (the value is unused). */
const STORE = "blocklist";
/** Users whose lists stay in memory; every stanza to or from a user is checked against the list. */
const CACHE_MAX = 10_000;

/** A domain name whose parent domains make sense (not an IP literal). */
function isDnsName(domain: string): boolean {
  return /[a-z]/i.test(domain) && !domain.includes(":") && !domain.startsWith("[");
}

/**
 * XEP-0191 §6 (the order of XEP-0016 §2.1): an item `user@domain/resource` or `domain/resource` matches only that
 * address; `user@domain` matches it with any resource; `domain` matches the domain, every address at it and at
 * its subdomains.
 */
export function matches(list: ReadonlySet<string>, jid: Jid): boolean {
  if (list.size === 0) return false;
  if (list.has(jid.toString())) return true;
  if (jid.local !== "" && jid.resource !== "" && list.has(jid.bareString)) return true;
  const domain = jid.domain;
  if (list.has(domain)) return true;
  if (!isDnsName(domain)) return false;
  for (let i = domain.indexOf("."); i >= 0; i = domain.indexOf(".", i + 1)) {
    if (list.has(domain.slice(i + 1))) return true;
  }
  return false;
}

/**
 * The blocklists of every user host of one server, by `host` and username. Shared by the hosts because a user of
 * one host may block, or be blocked by, a user of another.
 */
export class Blocklists {
  private readonly cache = new Map<string, Set<string>>();

  constructor(private readonly kv: KeyValueStore) {}

  /** The user's list (a live set: do not change it; use add/remove). */
  async get(host: string, username: string): Promise<ReadonlySet<string>> {
    const key = `${host}\u0000${username}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const list = new Set(await this.kv.keys(host, username, STORE));
    // Another caller may have loaded (and changed) the list while this one waited: theirs is current.
    const raced = this.cache.get(key);
    if (raced) return raced;
    if (this.cache.size >= CACHE_MAX) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, list);
    return list;
  }

  /** Adds JIDs (normalized strings); returns those that were not in the list yet. */
  async add(host: string, username: string, jids: string[]): Promise<string[]> {
    const list = (await this.get(host, username)) as Set<string>;
    const added: string[] = [];
    for (const jid of jids) {
      if (list.has(jid)) continue;
      await this.kv.set(host, username, STORE, jid, "");
      list.add(jid);
      added.push(jid);
    }
    return added;
  }

  /** Removes JIDs; returns those that were in the list. */
  async remove(host: string, username: string, jids: string[]): Promise<string[]> {
    const list = (await this.get(host, username)) as Set<string>;
    const removed: string[] = [];
    for (const jid of jids) {
      if (!list.has(jid)) continue;
      await this.kv.delete(host, username, STORE, jid);
      list.delete(jid);
      removed.push(jid);
    }
    return removed;
  }

  /** Empties the list (unblock all, account deletion); returns what it held. */
  async clear(host: string, username: string): Promise<string[]> {
    return this.remove(host, username, [...(await this.get(host, username))]);
  }
}
