/**
 * What the clients that send presence to our accounts can do (XEP-0115 entity capabilities), for PEP's `+notify`
 * filtering (XEP-0163 §4.3, XEP-0060 §9.2). Watches available presence — a local client's own broadcast, and
 * presence any entity sends to a local account — reads its `<c/>` element and, when the `ver` is new, asks the
 * client with disco#info (XEP-0115 §6.2). Verified answers are cached by `ver` (in memory), so each kind of
 * client is asked once.
 */
import { randomBytes } from "node:crypto";
import type { StanzaEvent } from "../../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../../core/module.ts";
import type { C2sSession } from "../../core/session.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { capsVer } from "../caps.ts";

/** The entity-caps service: known features of clients, and who sends presence to an account. */
export interface EntityCapsService {
  /** Features of an entity (full JID) from the caps in its last available presence; undefined if not known. */
  features(jid: string): ReadonlySet<string> | undefined;
  /**
   * Full JIDs currently available to an account (bare JID): its own available resources, and entities that sent it
   * available presence (contacts, directed presence) and not yet unavailable.
   */
  sources(account: string): string[];
}

declare module "../../core/module.ts" {
  interface HostServices {
    entityCaps: EntityCapsService;
  }
}

declare module "../../core/host.ts" {
  interface HostEvents {
    /**
     * An entity became available to a local account with known features, or its features changed: `account` (bare
     * JID) now receives the presence of `jid` (full JID), whose client supports `features`. PEP sends the last
     * items of interesting nodes on it (XEP-0163 §4.3.2).
     */
    "entity-caps.available": { account: string; jid: string; features: ReadonlySet<string> };
  }
}

/** How long a client has to answer our disco#info query. */
const QUERY_TIMEOUT_MS = 10_000;
/** Verified `ver` hashes kept; the oldest are forgotten beyond this. */
const MAX_CACHED_VERS = 5000;

interface Caps {
  /** Key under which the features are cached: the verified `ver`, or the JID itself for unverifiable caps. */
  key: string;
  node: string;
  ver: string;
  /** Only SHA-1 verification strings can be checked here (XEP-0115 §5.4); others are trusted for their JID only. */
  verifiable: boolean;
}

function readCaps(presence: XmlElement, jid: string): Caps | null {
  const c = presence.getChild("c", NS.caps);
  const ver = c?.attrs.ver;
  const node = c?.attrs.node;
  if (!c || !ver || !node) return null;
  const verifiable = c.attrs.hash === "sha-1";
  return { key: verifiable ? `sha-1 ${ver}` : `jid ${jid} ${ver}`, node, ver, verifiable };
}

class CapsTracker implements EntityCapsService {
  /** Feature sets by caps key. */
  private readonly cache = new Map<string, ReadonlySet<string>>();
  /** Caps key last seen per full JID. */
  private readonly keyOf = new Map<string, string>();
  /** account bare JID → full JID → caps key announced for it to this account ("" = none yet). */
  private readonly available = new Map<string, Map<string, string>>();
  /** Queries in flight by caps key: the entities waiting for the answer. */
  private readonly pending = new Map<string, { id: string; waiting: Set<string> }>();
  /** Query id → caps key and the JID asked. */
  private readonly queries = new Map<string, { key: string; jid: string; caps: Caps; timer: NodeJS.Timeout }>();

  constructor(private readonly ctx: ModuleContext) {}

  features(jid: string): ReadonlySet<string> | undefined {
    const key = this.keyOf.get(jid);
    return key === undefined ? undefined : this.cache.get(key);
  }

  sources(account: string): string[] {
    return [...(this.available.get(account)?.keys() ?? [])];
  }

  /** `jid` sent available presence that reaches `account`. */
  async availableTo(account: string, jid: string, presence: XmlElement): Promise<void> {
    let entries = this.available.get(account);
    if (!entries) {
      entries = new Map();
      this.available.set(account, entries);
    }
    const caps = readCaps(presence, jid);
    if (!caps) {
      // No caps: still a presence source (explicit needs), but nothing to announce.
      entries.set(jid, "");
      this.keyOf.delete(jid);
      return;
    }
    this.keyOf.set(jid, caps.key);
    const announced = entries.get(jid);
    entries.set(jid, announced ?? "");
    if (announced === caps.key) return;
    const features = this.cache.get(caps.key);
    if (features) {
      await this.announce(account, jid, caps.key, features);
      return;
    }
    this.query(jid, caps);
  }

  /** `jid` is no longer available to `account` (or to anyone, when account is null). */
  unavailable(account: string | null, jid: string): void {
    if (account === null) {
      for (const [acct, entries] of this.available) {
        entries.delete(jid);
        if (entries.size === 0) this.available.delete(acct);
      }
      this.keyOf.delete(jid);
      return;
    }
    const entries = this.available.get(account);
    entries?.delete(jid);
    if (entries?.size === 0) this.available.delete(account);
  }

  /** Handles a disco#info answer to one of our queries; false if the iq is not ours. */
  async answer(stanza: XmlElement): Promise<boolean> {
    const q = stanza.attrs.id ? this.queries.get(stanza.attrs.id) : undefined;
    if (!q || stanza.attrs.from !== q.jid) return false;
    this.queries.delete(stanza.attrs.id as string);
    clearTimeout(q.timer);
    const waiting = this.pending.get(q.key)?.waiting ?? new Set<string>();
    this.pending.delete(q.key);
    const info = stanza.getChild("query", NS.discoInfo);
    if (stanza.attrs.type !== "result" || !info) return true;
    // XEP-0115 §5.4: a hash that does not match the answer is not cached (it would poison other clients' entry).
    if (q.caps.verifiable && capsVer(info) !== q.caps.ver) {
      this.ctx.log.debug({ jid: q.jid, ver: q.caps.ver }, "entity caps hash mismatch; ignoring");
      return true;
    }
    const features = new Set(info.getChildren("feature").map((f) => f.attrs.var ?? ""));
    this.remember(q.key, features);
    for (const jid of waiting) {
      if (this.keyOf.get(jid) !== q.key) continue;
      for (const [account, entries] of this.available) {
        if (entries.has(jid)) await this.announce(account, jid, q.key, features);
      }
    }
    return true;
  }

  stop(): void {
    for (const q of this.queries.values()) clearTimeout(q.timer);
    this.queries.clear();
    this.pending.clear();
  }

  private async announce(account: string, jid: string, key: string, features: ReadonlySet<string>): Promise<void> {
    const entries = this.available.get(account);
    if (!entries?.has(jid) || entries.get(jid) === key) return;
    entries.set(jid, key);
    await this.ctx.host.events.fire("entity-caps.available", { account, jid, features });
  }

  private query(jid: string, caps: Caps): void {
    const inFlight = this.pending.get(caps.key);
    if (inFlight) {
      inFlight.waiting.add(jid);
      return;
    }
    const id = `caps-${randomBytes(6).toString("hex")}`;
    this.pending.set(caps.key, { id, waiting: new Set([jid]) });
    const timer = setTimeout(() => {
      this.queries.delete(id);
      if (this.pending.get(caps.key)?.id === id) this.pending.delete(caps.key);
    }, QUERY_TIMEOUT_MS);
    timer.unref();
    this.queries.set(id, { key: caps.key, jid, caps, timer });
    const iq = xml(
      "iq",
      { type: "get", id, from: this.ctx.host.name, to: jid },
      xml("query", { xmlns: NS.discoInfo, node: `${caps.node}#${caps.ver}` }),
    );
    this.ctx.send(iq).catch((err) => this.ctx.log.warn({ err, jid }, "entity caps query failed"));
  }

  private remember(key: string, features: ReadonlySet<string>): void {
    if (this.cache.size >= MAX_CACHED_VERS) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, features);
  }
}

/** Presence that makes `from` available or unavailable to the addressed account. */
async function observeInbound(tracker: CapsTracker, ev: StanzaEvent): Promise<void> {
  const type = ev.stanza.attrs.type;
  const account = ev.to.bareString;
  const from = ev.from.toString();
  // Presence from the account itself reaches it through presence.available; only others are sources here.
  if (ev.from.bareString === account) return;
  if (type === undefined) await tracker.availableTo(account, from, ev.stanza);
  else if (type === "unavailable" || type === "error") tracker.unavailable(account, from);
}

/** XEP-0115 entity capabilities of the entities that send presence to local accounts. */
export const entityCapsModule: ModuleDefinition = {
  name: "entity-caps",
  specs: [{ spec: "XEP-0115", version: "1.6.0", note: "caps of contacts' clients, for PEP +notify" }],
  load(ctx) {
    const tracker = new CapsTracker(ctx);
    ctx.provide("entityCaps", tracker);
    ctx.onStop(() => tracker.stop());

    const ownAvailable = (session: C2sSession) => {
      if (session.presence)
        return tracker.availableTo(session.jid.bareString, session.jid.toString(), session.presence);
    };
    ctx.on("presence.available", ({ session }) => ownAvailable(session));
    ctx.on(
      "pre-presence",
      (ev) => {
        if (ev.to === null && ev.stanza.attrs.type === "unavailable")
          tracker.unavailable(null, ev.session.jid.toString());
      },
      10,
    );
    ctx.on("c2s.session.closed", ({ session }) => {
      if (ctx.sessions.get(session.jid) === undefined) tracker.unavailable(null, session.jid.toString());
    });

    // Observe, never handle: presence delivery stays with the presence module.
    const inbound = async (ev: StanzaEvent) => {
      if (ev.from.resource !== "") await observeInbound(tracker, ev);
    };
    ctx.on("presence/bare", inbound, 10);
    ctx.on("presence/full", inbound, 10);

    // Answers to our disco#info queries come back to the host's JID.
    ctx.on(
      "iq/host",
      (ev) => {
        const type = ev.stanza.attrs.type;
        if (type !== "result" && type !== "error") return;
        return tracker.answer(ev.stanza);
      },
      10,
    );
  },
};
