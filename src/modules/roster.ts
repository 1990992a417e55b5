import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleContext, ModuleDefinition } from "../core/module.ts";
import { type Jid, makeJid } from "../jid/jid.ts";
import type { RosterItem } from "../storage/types.ts";
import { xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { hasFrom, hasTo, stateOf } from "../xmpp/subscription-states.ts";
import { sendUnavailableOf } from "./im/presence-util.ts";
import { itemElement, parseRosterSet } from "./im/roster-items.ts";
import { HostRoster, type RosterService } from "./im/roster-service.ts";

declare module "../core/module.ts" {
  interface HostServices {
    roster: RosterService;
  }
}

/** Only the account itself may read or change its roster (RFC 6121 §2.1.5); others get no answer about it. */
function ownAccount(ev: StanzaEvent): string {
  if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("cancel", "service-unavailable");
  return ev.to.local;
}

/**
 * Ends every subscription with a contact as a roster removal does (RFC 6121 §2.5.2): "unsubscribe" if the user
 * receives (or asked for) the contact's presence, "unsubscribed" if the contact does (or asked to).
 */
async function cancelSubscriptions(ctx: ModuleContext, user: Jid, item: RosterItem): Promise<void> {
  const state = stateOf(item);
  const from = user.toString();
  if (hasTo(state) || item.askOut) await ctx.send(xml("presence", { type: "unsubscribe", from, to: item.jid }));
  if (hasFrom(state) || item.askIn) {
    await ctx.send(xml("presence", { type: "unsubscribed", from, to: item.jid }));
  }
  // §3.2.2: the contact stops seeing the user, so it is told the user's resources are gone.
  if (hasFrom(state)) await sendUnavailableOf(ctx, user, item.jid);
}

/** RFC 6121 §2 roster management, XEP-0237 roster versioning, and the `roster` service for other modules. */
export const rosterModule: ModuleDefinition = {
  name: "roster",
  specs: [
    { spec: "RFC 6121", note: "§2 roster management" },
    { spec: "XEP-0237", version: "1.3", note: "full roster or empty result; no interim pushes" },
  ],
  load(ctx) {
    const host = ctx.host.name;
    const roster = new HostRoster(host, ctx.storage, ctx.sessions);
    ctx.provide("roster", roster);
    // RFC 6121 §2.6.1 (roster versioning) and §3.4 (pre-approval) are advertised as stream features.
    ctx.streamFeature({ stage: "post-auth", element: () => xml("ver", { xmlns: NS.rosterVer }) });
    ctx.streamFeature({ stage: "post-auth", element: () => xml("sub", { xmlns: NS.preApproval }) });

    ctx.iq(
      "get",
      NS.roster,
      async (ev) => {
        const username = ownAccount(ev);
        // §2.1.6: a resource that asked for the roster gets roster pushes from now on.
        const session = ctx.sessions.get(ev.from);
        if (session) session.interested = true;
        const current = await roster.get(username);
        const ver = ev.stanza.firstElement()?.attrs.ver;
        // §2.6.3: the client's version is current: an empty result says "nothing changed".
        if (ver !== undefined && ver === current.version) return null;
        return xml(
          "query",
          { xmlns: NS.roster, ver: ver !== undefined ? current.version : undefined },
          ...current.items.map(itemElement),
        );
      },
      "bare",
    );

    ctx.iq(
      "set",
      NS.roster,
      async (ev) => {
        const username = ownAccount(ev);
        const set = parseRosterSet(ev.stanza.firstElement()!);
        if (set.jid === ev.to.bareString) throw new StanzaError("cancel", "not-allowed", "You cannot add yourself");
        if (set.kind === "remove") {
          const removed = await roster.removeItem(username, set.jid);
          // §2.5.3: removing an item that is not there.
          if (!removed) throw new StanzaError("cancel", "item-not-found");
          await cancelSubscriptions(ctx, ev.to.bare, removed);
          return null;
        }
        // §2.3.2 / §2.4.2: the push to all interested resources goes out before the result.
        await roster.setNameAndGroups(username, set.jid, set.name, set.groups);
        return null;
      },
      "bare",
    );

    ctx.on("account.deleted", async ({ username }) => {
      // Contacts learn that the subscriptions ended, so their rosters do not keep a dead account subscribed.
      const user = makeJid(username, host);
      for (const item of (await roster.get(username)).items) await cancelSubscriptions(ctx, user, item);
      await roster.deleteUser(username);
    });
  },
};
