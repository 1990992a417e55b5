import { randomBytes } from "node:crypto";
import { StanzaError } from "../core/errors.ts";
import type { OutgoingEvent, StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import type { Server } from "../core/server.ts";
import type { C2sSession } from "../core/session.ts";
import { errorReply } from "../core/stanza.ts";
import { type Jid, parseJid, tryParseJid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { Blocklists, matches } from "./blocking/blocklist.ts";

export const NS_BLOCKING = "urn:xmpp:blocking";
export const NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors";

/** Most JIDs one user may block; a list beyond that is abuse of the server rather than protection from it. */
const MAX_ITEMS = 10_000;

/** The `blocking` service: other modules ask whether a user blocks an address. */
export interface BlockingService {
  /** True if the account blocks this address (XEP-0191 §6 matching). */
  isBlocked(username: string, jid: Jid): Promise<boolean>;
  /** The account's blocked JIDs, sorted. */
  list(username: string): Promise<string[]>;
}

/** One item of a block command, as the client sent it (XEP-0377 reports travel inside). */
export interface BlockedItem {
  /** Normalized JID. */
  jid: string;
  element: XmlElement;
}

declare module "../core/module.ts" {
  interface HostServices {
    blocking: BlockingService;
  }
}

declare module "../core/host.ts" {
  interface HostEvents {
    /** A user blocked JIDs (XEP-0191 §3.3), after the block took effect; spam reporting (XEP-0377) listens. */
    "blocking.blocked": { username: string; session: C2sSession | undefined; items: BlockedItem[] };
  }
}

/** One set of blocklists per server: a user of one host can block a user of another. */
const shared = new WeakMap<Server, Blocklists>();

function sendsPresenceTo(subscription: string): boolean {
  return subscription === "from" || subscription === "both";
}

/** Our own account and our own server are never blocked: that would cut the user off from their own service. */
function exempt(user: Jid, other: Jid): boolean {
  return other.bareString === user.bareString || (other.isDomain && other.domain === user.domain);
}

/**
 * The Blocking Command (XEP-0191): blocklist retrieval, block, unblock and unblock-all with pushes to the
 * resources that asked for the list, and enforcement at priority 1000, before anything else sees a stanza:
 *
 * | direction | stanza | what happens |
 * |---|---|---|
 * | from a blocked address to the user | presence | dropped silently (§3.3) |
 * | | message | `service-unavailable` (errors dropped) |
 * | | iq get/set | `service-unavailable`; result/error dropped |
 * | from the user's client to a blocked address | any | not routed: `not-acceptable` + `<blocked xmlns='urn:xmpp:blocking:errors'/>` |
 * | generated for the user (presence broadcast, PEP notifications) to a blocked local address | any but errors | dropped |
 *
 * Blocking sends unavailable presence to the blocked contacts that saw the user's presence; unblocking sends the
 * current presence again (§3.3, §3.4).
 */
export const blockingModule: ModuleDefinition = {
  name: "blocking",
  specs: [{ spec: "XEP-0191", version: "1.3" }],
  load(ctx) {
    const host = ctx.host.name;
    let lists = shared.get(ctx.server);
    if (!lists) {
      lists = new Blocklists(ctx.storage.kv);
      shared.set(ctx.server, lists);
    }
    const blocklists = lists;
    /** Sessions that retrieved the blocklist and so receive pushes (§3.3). */
    const interested = new WeakSet<C2sSession>();
    ctx.feature(NS_BLOCKING);

    ctx.provide("blocking", {
      isBlocked: async (username, jid) => matches(await blocklists.get(host, username), jid),
      list: async (username) => [...(await blocklists.get(host, username))].sort(),
    });

    // ---- enforcement ------------------------------------------------------------------------------

    const outgoing = async (ev: OutgoingEvent): Promise<true | undefined> => {
      if (ev.to === null || exempt(ev.from, ev.to)) return undefined;
      if (!matches(await blocklists.get(host, ev.session.username), ev.to)) return undefined;
      // §3.3: not routed; the user's client learns why.
      const reply = errorReply(ev.stanza, "cancel", "not-acceptable");
      if (reply) {
        reply.getChild("error")?.append(xml("blocked", { xmlns: NS_BLOCKING_ERRORS }));
        ev.session.send(reply);
      }
      return true;
    };
    ctx.on("pre-message", outgoing, 1000);
    ctx.on("pre-presence", outgoing, 1000);
    ctx.on("pre-iq", outgoing, 1000);

    ctx.on(
      "stanza/in",
      async (ev: StanzaEvent): Promise<true | undefined> => {
        const { stanza, from, to } = ev;
        if (to.local !== "" && !exempt(to, from) && matches(await blocklists.get(host, to.local), from)) {
          return refuse(stanza);
        }
        // Stanzas the server sends in a local user's name (presence broadcast, PEP notifications) to someone the
        // user blocks. Bounces are let through so that the user's server can still refuse things with errors.
        if (
          from.local !== "" &&
          stanza.attrs.type !== "error" &&
          !exempt(from, to) &&
          ctx.server.userHost(from.domain) !== undefined &&
          matches(await blocklists.get(from.domain, from.local), to)
        ) {
          return true;
        }
        return undefined;
      },
      1000,
    );

    // ---- protocol ---------------------------------------------------------------------------------

    ctx.iq(
      "get",
      NS_BLOCKING,
      async (ev) => {
        const username = ownAccount(ev);
        if (ev.stanza.firstElement()?.name !== "blocklist") throw new StanzaError("modify", "bad-request");
        const session = ctx.sessions.get(ev.from);
        if (session) interested.add(session);
        const list = [...(await blocklists.get(host, username))].sort();
        return xml("blocklist", { xmlns: NS_BLOCKING }, ...list.map((jid) => xml("item", { jid })));
      },
      "bare",
    );

    ctx.iq(
      "set",
      NS_BLOCKING,
      async (ev) => {
        const username = ownAccount(ev);
        const payload = ev.stanza.firstElement() as XmlElement;
        const items = parseItems(payload);
        const user = ev.to.bare;
        if (payload.name === "block") {
          // §3.3: at least one item.
          if (items.length === 0) throw new StanzaError("modify", "bad-request", "Block at least one JID");
          const current = await blocklists.get(host, username);
          const fresh = [...new Set(items.map((i) => i.jid))].filter((j) => !current.has(j));
          if (current.size + fresh.length > MAX_ITEMS) {
            throw new StanzaError("wait", "resource-constraint", `At most ${MAX_ITEMS} blocked JIDs`);
          }
          // Before the block takes effect, or the block would stop this presence too.
          for (const jid of fresh) await presenceOnChange(ctx, user, jid, "block");
          await blocklists.add(host, username, fresh);
          await ctx.host.events.fire("blocking.blocked", { username, session: ctx.sessions.get(ev.from), items });
          push(username, xml("block", { xmlns: NS_BLOCKING }, ...items.map((i) => xml("item", { jid: i.jid }))));
          return null;
        }
        if (payload.name === "unblock") {
          // §3.5: an empty <unblock/> unblocks everything.
          const removed =
            items.length === 0
              ? await blocklists.clear(host, username)
              : await blocklists.remove(
                  host,
                  username,
                  items.map((i) => i.jid),
                );
          push(username, xml("unblock", { xmlns: NS_BLOCKING }, ...items.map((i) => xml("item", { jid: i.jid }))));
          for (const jid of removed) await presenceOnChange(ctx, user, jid, "unblock");
          return null;
        }
        throw new StanzaError("modify", "bad-request", "Expected <block/> or <unblock/>");
      },
      "bare",
    );

    /** Block and unblock pushes to every resource that retrieved the blocklist. */
    const push = (username: string, payload: XmlElement) => {
      for (const s of ctx.sessions.resources(`${username}@${host}`)) {
        if (!interested.has(s)) continue;
        s.send(
          xml(
            "iq",
            { type: "set", id: `block-push-${randomBytes(4).toString("hex")}`, to: s.jid.toString() },
            payload.clone(),
          ),
        );
      }
    };

    ctx.on("account.deleted", async ({ username }) => {
      await blocklists.clear(host, username);
    });
  },
};

/** Only the account itself reads or changes its blocklist. */
function ownAccount(ev: StanzaEvent): string {
  if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("cancel", "service-unavailable");
  return ev.to.local;
}

function parseItems(payload: XmlElement): BlockedItem[] {
  return payload.getChildren("item").map((element) => {
    const jid = tryParseJid(element.attrs.jid ?? "");
    if (!jid) throw new StanzaError("modify", "jid-malformed", `Invalid JID '${element.attrs.jid ?? ""}'`);
    return { jid: jid.toString(), element };
  });
}

/** §3.3 inbound rules: presence silently, message and iq get/set with service-unavailable, errors and results dropped. */
function refuse(stanza: XmlElement): true {
  const type = stanza.attrs.type;
  if (stanza.name === "presence" || type === "error" || type === "result") return true;
  throw new StanzaError("cancel", "service-unavailable");
}

/**
 * §3.3 / §3.4: when a block starts, the contacts it covers that saw the user's presence get unavailable presence
 * from each available resource; when it ends, they get the current presence again.
 */
async function presenceOnChange(ctx: ModuleContext, user: Jid, blocked: string, change: "block" | "unblock") {
  const roster = ctx.service("roster");
  if (!roster) return;
  const item = parseJid(blocked);
  let targets: string[];
  if (item.local !== "") {
    const contact = await roster.getItem(user.local, item.bareString);
    targets = contact && sendsPresenceTo(contact.subscription) ? [blocked] : [];
  } else {
    // A domain item covers every contact at that domain (and its subdomains).
    const only = new Set([blocked]);
    targets = (await roster.get(user.local)).items
      .filter((i) => sendsPresenceTo(i.subscription) && matches(only, parseJid(i.jid)))
      .map((i) => i.jid);
  }
  for (const to of targets) {
    for (const s of ctx.sessions.resources(user)) {
      if (s.presence === null) continue;
      const from = s.jid.toString();
      const stanza = change === "block" ? xml("presence", { type: "unavailable" }) : s.presence.clone();
      stanza.attrs.from = from;
      stanza.attrs.to = to;
      await ctx.send(stanza);
    }
  }
}
