/**
 * Archiving preferences (XEP-0441, formerly XEP-0313 §6): a default policy plus JIDs always or never archived,
 * kept per user in the key-value store.
 */
import { StanzaError } from "../../core/errors.ts";
import { type Jid, tryParseJid } from "../../jid/jid.ts";
import type { KeyValueStore } from "../../storage/types.ts";
import { type XmlElement, xml } from "../../xml/element.ts";

export type DefaultPolicy = "always" | "roster" | "never";

export interface ArchivePrefs {
  default: DefaultPolicy;
  /** Normalized JIDs, bare (every resource) or full (that resource only). */
  always: string[];
  never: string[];
}

const POLICIES: readonly string[] = ["always", "roster", "never"];

/** Key-value store and key the preferences live under. */
const STORE = "mam-prefs";
const KEY = "prefs";
/** Users whose preferences stay in memory; they are read for every archived message. */
const CACHE_MAX = 10_000;

function jidList(prefs: XmlElement, name: string, ns: string): string[] {
  const list = prefs.getChild(name, ns);
  if (!list) return [];
  const out = new Set<string>();
  for (const j of list.getChildren("jid")) {
    const jid = tryParseJid(j.text().trim());
    if (!jid) throw new StanzaError("modify", "jid-malformed", `Invalid JID in <${name}/>`);
    out.add(jid.toString());
  }
  return [...out];
}

/** Reads a `<prefs/>` set by a client; a list it leaves out becomes empty (XEP-0441 §2.2 replaces the whole set). */
export function parsePrefs(el: XmlElement, ns: string): ArchivePrefs {
  const def = el.attrs.default;
  if (def === undefined || !POLICIES.includes(def)) {
    throw new StanzaError("modify", "bad-request", "default must be always, roster or never");
  }
  return { default: def as DefaultPolicy, always: jidList(el, "always", ns), never: jidList(el, "never", ns) };
}

/** The `<prefs/>` element in the namespace the client used. */
export function prefsElement(prefs: ArchivePrefs, ns: string): XmlElement {
  const list = (name: string, jids: string[]) => xml(name, null, ...jids.map((j) => xml("jid", null, j)));
  return xml("prefs", { xmlns: ns, default: prefs.default }, list("always", prefs.always), list("never", prefs.never));
}

/**
 * Whether a message with `contact` is archived. A JID listed in `never` (as itself or its bare JID) is not, then
 * one listed in `always` is; otherwise the default decides, `roster` meaning "if the contact is in the roster".
 * `never` wins over `always` so that a contradictory list errs on the side of privacy.
 */
export async function prefsAllow(
  prefs: ArchivePrefs,
  contact: Jid,
  inRoster: () => Promise<boolean>,
): Promise<boolean> {
  const full = contact.toString();
  const bare = contact.bareString;
  const listed = (list: string[]) => list.includes(full) || list.includes(bare);
  if (listed(prefs.never)) return false;
  if (listed(prefs.always)) return true;
  if (prefs.default === "always") return true;
  if (prefs.default === "never") return false;
  return inRoster();
}

/** Per-user preferences of one host, read through a bounded cache. */
export class PrefsStore {
  private readonly cache = new Map<string, ArchivePrefs>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly host: string,
    private readonly defaultPolicy: DefaultPolicy,
  ) {}

  async get(username: string): Promise<ArchivePrefs> {
    const cached = this.cache.get(username);
    if (cached) return cached;
    const raw = await this.kv.get(this.host, username, STORE, KEY);
    // A set() while this read waited is newer than what was read.
    const raced = this.cache.get(username);
    if (raced) return raced;
    let prefs: ArchivePrefs = { default: this.defaultPolicy, always: [], never: [] };
    if (raw !== null) {
      try {
        prefs = JSON.parse(raw) as ArchivePrefs;
      } catch {
        // A damaged document falls back to the server default rather than failing every message.
      }
    }
    this.remember(username, prefs);
    return prefs;
  }

  async set(username: string, prefs: ArchivePrefs): Promise<void> {
    await this.kv.set(this.host, username, STORE, KEY, JSON.stringify(prefs));
    this.remember(username, prefs);
  }

  async delete(username: string): Promise<void> {
    this.cache.delete(username);
    await this.kv.delete(this.host, username, STORE, KEY);
  }

  private remember(username: string, prefs: ArchivePrefs): void {
    this.cache.delete(username);
    if (this.cache.size >= CACHE_MAX) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(username, prefs);
  }
}
