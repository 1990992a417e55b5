import { StanzaError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/**
 * XEP-0012 Last Activity: the server's uptime when asked on its own JID; for an account's bare JID, the
 * seconds since its last logout (0 while online), only to the account itself and to contacts allowed to
 * see its presence (XEP-0012 §4, RFC 6121 subscription "from"/"both"). Records login/logout times too,
 * which `hearth users` shows.
 */
export const lastActivityModule: ModuleDefinition = {
  name: "last-activity",
  specs: [{ spec: "XEP-0012", version: "2.0" }],
  load(ctx) {
    const host = ctx.host.name;
    ctx.feature(NS.last);
    ctx.accountFeature(NS.last);

    ctx.iq("get", NS.last, () => {
      const seconds = Math.floor((Date.now() - ctx.server.startedAt) / 1000);
      return xml("query", { xmlns: NS.last, seconds: String(seconds) });
    });

    ctx.iq(
      "get",
      NS.last,
      async (ev) => {
        const user = ev.to.local;
        const isSelf = ev.from.bareString === ev.to.bareString;
        if (!isSelf) {
          const item = await ctx.storage.roster.getItem(host, user, ev.from.bareString);
          if (!item || (item.subscription !== "from" && item.subscription !== "both")) {
            throw new StanzaError("auth", "forbidden");
          }
        }
        const account = await ctx.storage.accounts.get(host, user);
        if (!account) throw new StanzaError("cancel", "service-unavailable");
        if (ctx.sessions.isOnline(ev.to)) return xml("query", { xmlns: NS.last, seconds: "0" });
        if (account.lastSeen === null) throw new StanzaError("cancel", "item-not-found");
        const seconds = Math.max(0, Math.floor((Date.now() - account.lastSeen) / 1000));
        return xml("query", { xmlns: NS.last, seconds: String(seconds) }, account.lastStatus ?? undefined);
      },
      "bare",
    );

    ctx.on("c2s.session.bound", ({ session }) => {
      // Not awaited (binding must not wait for it), so its failure is caught here, never left unhandled.
      ctx.storage.accounts
        .setLastSeen(host, session.username, Date.now(), null)
        .catch((err) => ctx.log.warn({ err, user: session.username }, "could not record the login time"));
    });
    ctx.on(
      "c2s.session.closed",
      async ({ session }) => {
        if (ctx.sessions.isOnline(session.jid.bare)) return;
        const status = session.presence?.getChildText("status") ?? null;
        await ctx.storage.accounts.setLastSeen(host, session.username, Date.now(), status);
      },
      -10,
    );
  },
};
