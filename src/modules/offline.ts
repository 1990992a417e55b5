import type { ModuleDefinition } from "../core/module.ts";
import type { C2sSession } from "../core/session.ts";
import { delayElement } from "../core/stanza.ts";
import type { XmlElement } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { KeyedLock } from "./im/keyed-lock.ts";
import { parseStoredStanza } from "./im/stored-stanza.ts";

const NS_CHATSTATES = "http://jabber.org/protocol/chatstates";
const NS_HINTS = "urn:xmpp:hints";

/** What happened to a message handed to offline storage. */
export type OfflineOutcome = "stored" | "skipped" | "full";

/** The `offline` service (XEP-0160), for the message module and later carbons/MAM/push. */
export interface OfflineService {
  /** Keeps a message for an account with no resource to deliver it to. */
  store(username: string, message: XmlElement): Promise<OfflineOutcome>;
  /** Hands the stored messages to a session in arrival order, removing them once sent. Returns how many. */
  deliver(session: C2sSession): Promise<number>;
  count(username: string): Promise<number>;
}

declare module "../core/module.ts" {
  interface HostServices {
    offline: OfflineService;
  }
}

/**
 * Whether a message is worth keeping for later. XEP-0334 hints decide when present (`<no-store/>` never,
 * `<store/>` always); otherwise anything with content is kept, but not a message that carries only chat state
 * notifications (XEP-0085 §5.5: they are meaningless once the conversation is over) and a thread id.
 */
export function worthStoring(message: XmlElement): boolean {
  if (message.getChild("no-store", NS_HINTS)) return false;
  if (message.getChild("store", NS_HINTS)) return true;
  return message
    .elements()
    .some((el) => el.name !== "thread" && el.attrs.xmlns !== NS_CHATSTATES && el.attrs.xmlns !== NS_HINTS);
}

/** XEP-0160 offline messages with XEP-0203 delay stamps, delivered on the first non-negative presence. */
export const offlineModule: ModuleDefinition = {
  name: "offline",
  specs: [
    { spec: "XEP-0160", version: "1.0.1" },
    { spec: "XEP-0203", version: "2.0" },
    { spec: "XEP-0334", version: "0.3.0", note: "store / no-store hints for offline storage" },
  ],
  load(ctx) {
    const host = ctx.host.name;
    const limit = ctx.config.limits.offline_max_per_user;
    /** Sessions that already received their offline messages. */
    const flushed = new WeakSet<C2sSession>();
    const lock = new KeyedLock();
    ctx.feature(NS.offline);

    const deliver = (session: C2sSession): Promise<number> => {
      flushed.add(session);
      return lock.run(session.username, async () => {
        if (session.closed) return 0;
        const stored = await ctx.storage.offline.peek(host, session.username);
        const handed: number[] = [];
        for (const m of stored) {
          const stanza = parseStoredStanza(m.stanza);
          if (stanza) session.send(stanza);
          else ctx.log.warn({ user: session.username, id: m.id }, "dropping a damaged offline message");
          // A session that died meanwhile keeps the rest for the next login.
          if (session.closed) break;
          handed.push(m.id);
        }
        await ctx.storage.offline.remove(host, session.username, handed);
        return handed.length;
      });
    };

    const service: OfflineService = {
      async store(username, message) {
        if (!worthStoring(message)) return "skipped";
        if ((await ctx.storage.offline.count(host, username)) >= limit) return "full";
        const stamped = message.clone();
        stamped.append(delayElement(host, new Date())); // XEP-0160 §3 / XEP-0203
        await ctx.storage.offline.push(host, username, stamped.toString(), Date.now());
        // A resource may have become available (and been flushed) while this message was on its way here.
        const late = ctx.sessions
          .resources(`${username}@${host}`)
          .find((s) => flushed.has(s) && s.presence !== null && s.priority >= 0);
        if (late) await deliver(late);
        return "stored";
      },
      deliver,
      count: (username) => ctx.storage.offline.count(host, username),
    };
    ctx.provide("offline", service);

    // XEP-0160 §4: delivered once the user is available with a non-negative priority.
    ctx.on("presence.available", async ({ session }) => {
      if (session.priority >= 0 && !flushed.has(session)) await deliver(session);
    });
    ctx.on("account.deleted", async ({ username }) => {
      await ctx.storage.offline.deleteUser(host, username);
    });
  },
};
