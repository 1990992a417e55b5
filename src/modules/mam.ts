import { StanzaError } from "../core/errors.ts";
import type { OutgoingEvent, StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { iqResult } from "../core/stanza.ts";
import { serverSweep } from "../core/sweep.ts";
import { type Jid, tryParseJid } from "../jid/jid.ts";
import type { ArchiveRef } from "../storage/archive.ts";
import type { XmlElement } from "../xml/element.ts";
import { MAM_NAMESPACES, MAM_NS, NS_SID } from "./mam/ns.ts";
import { messageTypeOf, worthArchiving } from "./mam/policy.ts";
import { PrefsStore, parsePrefs, prefsAllow, prefsElement } from "./mam/prefs.ts";
import { type ArchiveService, createArchiveService } from "./mam/service.ts";
import { stripStanzaIds } from "./mam/stanza-id.ts";

/** The `archive` service as the MAM module provides it: any archive, plus what carbons needs of user archives. */
export interface UserArchiveService extends ArchiveService {
  /**
   * The id an outgoing message of a local user got in the sender's archive, if it was archived. XEP-0313 §3.5: the
   * recipient must not see it, but sent carbons (XEP-0280) should carry it as `<stanza-id by='user@host'/>`.
   */
  sentId(message: XmlElement): string | undefined;
}

declare module "../core/module.ts" {
  interface HostServices {
    archive: UserArchiveService;
  }
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Message Archive Management for users' archives (XEP-0313), with stanza ids (XEP-0359), preferences (XEP-0441),
 * retention, and the `archive` service that MUC rooms share.
 *
 * A message is archived once, at the user's server, before anything delivers or copies it (priority 500):
 * - outgoing: at `pre-message`, from the user's own clients (with the recipient);
 * - incoming: at `message/bare` and `message/full` for an account of this host, whether or not it is online, so
 *   that a message kept offline is archived once and delivered once, with its `<stanza-id/>` already on it.
 * Blocked stanzas never get here (blocking runs at 1000), so the archive only holds what was accepted.
 */
export const mamModule: ModuleDefinition = {
  name: "mam",
  specs: [
    { spec: "XEP-0313", version: "1.1.3", note: "urn:xmpp:mam:2 with #extended; also answers urn:xmpp:mam:1 and :0" },
    { spec: "XEP-0059", version: "1.0", note: "max, after, before, index; first/last/count" },
    { spec: "XEP-0359", version: "0.7.0", note: "stanza-id stamped on archived incoming messages" },
    { spec: "XEP-0441", version: "0.2.0", note: "archiving preferences" },
    { spec: "XEP-0297", version: "1.0" },
  ],
  async load(ctx) {
    const host = ctx.host.name;
    const cfg = ctx.config.archive;
    const store = ctx.storage.archive;
    const prefs = new PrefsStore(ctx.storage.kv, host, cfg.default_policy);
    const sent = new WeakMap<XmlElement, string>();
    const userRef = (username: string): ArchiveRef => ({ host, owner: username, kind: "user" });

    const service = createArchiveService({
      store,
      maxPageSize: cfg.max_page_size,
      log: ctx.log,
      // Results answer one session's query: straight to it, so that no delivery hook treats them as messages.
      async deliver(stanza) {
        const to = tryParseJid(stanza.attrs.to ?? "");
        const session = to ? ctx.sessions.get(to) : undefined;
        if (session) session.send(stanza);
        else await ctx.send(stanza);
      },
    });
    ctx.provide("archive", { ...service, sentId: (message) => sent.get(message) });

    // XEP-0313 §8: on the account's bare JID, where the archive is. XEP-0359 §5: the archive stamps ids.
    for (const ns of [MAM_NS.v2, MAM_NS.extended, MAM_NS.v1, MAM_NS.v0, NS_SID]) ctx.accountFeature(ns);

    const allowed = async (username: string, contact: Jid): Promise<boolean> => {
      const p = await prefs.get(username);
      return prefsAllow(p, contact, async () => {
        const roster = ctx.service("roster");
        return roster ? (await roster.getItem(username, contact.bareString)) !== null : false;
      });
    };

    const outgoing = async (ev: OutgoingEvent): Promise<undefined> => {
      // A message to one's own account is archived once, on arrival.
      if (ev.to === null || ev.to.bareString === ev.from.bareString) return undefined;
      if (!worthArchiving(ev.stanza) || !(await allowed(ev.session.username, ev.to))) return undefined;
      const id = await service.append(userRef(ev.session.username), ev.stanza, {
        with: ev.to.toString(),
        stamp: false,
      });
      sent.set(ev.stanza, id);
      return undefined;
    };

    const incoming = async (ev: StanzaEvent): Promise<undefined> => {
      const username = ev.to.local;
      const archive = ev.to.bareString;
      // XEP-0359 §3.3: whatever happens next, no stanza-id in our user's name comes from outside.
      stripStanzaIds(ev.stanza, archive);
      if (!worthArchiving(ev.stanza)) return undefined;
      // RFC 6121 §8.5.3.2.1: only chat falls back to the bare JID when the resource is gone; the rest bounces.
      if (ev.to.resource !== "" && !ctx.sessions.get(ev.to) && messageTypeOf(ev.stanza) !== "chat") return undefined;
      if (!ctx.sessions.isOnline(ev.to) && !(await ctx.storage.accounts.exists(host, username))) return undefined;
      if (!(await allowed(username, ev.from))) return undefined;
      await service.append(userRef(username), ev.stanza, { with: ev.from.toString() });
      return undefined;
    };

    ctx.on("pre-message", outgoing, 500);
    ctx.on("message/bare", incoming, 500);
    ctx.on("message/full", incoming, 500);

    // Queries, form, metadata and preferences, in every MAM namespace, on the user's own archive only.
    const handle = async (ev: StanzaEvent): Promise<true> => {
      // XEP-0313 §9.1: no access to somebody else's archive.
      if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("auth", "forbidden");
      const payload = ev.stanza.firstElement() as XmlElement;
      const ns = payload.attrs.xmlns as string;
      if (payload.name === "prefs") {
        const username = ev.to.local;
        if (ev.stanza.attrs.type === "set") await prefs.set(username, parsePrefs(payload, ns));
        await ctx.send(iqResult(ev.stanza, prefsElement(await prefs.get(username), ns)));
        return true;
      }
      await service.answer(userRef(ev.to.local), ev.stanza);
      return true;
    };
    for (const ns of MAM_NAMESPACES) {
      ctx.on(`iq-get/bare/${ns}`, handle);
      ctx.on(`iq-set/bare/${ns}`, handle);
    }

    ctx.on("account.deleted", async ({ username }) => {
      await store.deleteArchive(userRef(username));
      await prefs.delete(username);
    });

    // Retention: the oldest messages go first (XEP-0313 §3.2), at startup and then every hour. Pruning covers
    // every archive of the server, so one timer is enough.
    if (cfg.retention_days > 0) {
      await serverSweep(ctx, "archive pruning", HOUR, async () => {
        const removed = await store.prune(null, Date.now() - cfg.retention_days * DAY);
        if (removed > 0) ctx.log.info({ removed, retention_days: cfg.retention_days }, "pruned archived messages");
      });
    }
  },
};
