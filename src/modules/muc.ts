/**
 * Multi-User Chat (XEP-0045): every user host `example.org` gets a chat service `conference.example.org`
 * (config `muc.domain_prefix`), a service host of its own whose module (muc/service-module.ts) holds the rooms.
 * This module, on the user host, creates it, lists it in the host's disco#items (XEP-0045 §6.1) and lets it
 * know when accounts go away.
 */
import { isIP } from "node:net";
import type { ModuleDefinition } from "../core/module.ts";
import { normalizeDomain } from "../jid/jid.ts";
import { type MucServiceOptions, mucServiceModule } from "./muc/service-module.ts";

export const mucModule: ModuleDefinition = {
  name: "muc",
  specs: [
    { spec: "XEP-0045", version: "1.34", note: "rooms, affiliations and roles, every admin and owner use case" },
    { spec: "XEP-0249", version: "1.2", note: "direct invitations pass through; mediated invitations by the room" },
    { spec: "XEP-0421", note: "occupant ids in rooms" },
    { spec: "XEP-0410", version: "1.1.0", note: "self-ping answered by the room (self-ping optimization)" },
    { spec: "XEP-0313", version: "1.1.3", note: "archives of rooms, queried on the room JID" },
    { spec: "XEP-0359", version: "0.7.0", note: "stanza-id stamped by the room" },
    {
      spec: "XEP-0424",
      version: "0.4",
      note: "urn:xmpp:message-retract:1: retraction by the author in rooms, tombstones in the archive",
    },
    { spec: "XEP-0425", version: "0.3.0", note: "moderated retraction (also the 0.2 apply-to request)" },
    { spec: "XEP-0128", version: "1.0.1", note: "muc#roominfo form in room disco#info" },
    { spec: "XEP-0059", version: "1.0.0", note: "paged room directory" },
    { spec: "XEP-0486", note: "room avatars through the room's vCard" },
  ],
  async load(ctx) {
    const cfg = ctx.config.muc;
    if (isIP(ctx.host.name.replace(/^\[|\]$/g, ""))) {
      ctx.log.info("no chat service for an IP address host");
      return;
    }
    const domain = normalizeDomain(`${cfg.domain_prefix}.${ctx.host.name}`);
    const limits = {
      maxOccupants: cfg.max_occupants,
      maxHistory: cfg.max_history,
      defaultHistory: cfg.default_history,
      defaultPersistent: cfg.default_persistent,
      defaultPublic: cfg.default_public,
      archive: true,
    };
    const opts: MucServiceOptions = {
      settings: {
        domain,
        name: cfg.name,
        creation: cfg.room_creation,
        limits,
        rate: { perSecond: cfg.message_rate, burst: cfg.message_burst },
        admins: new Set(ctx.config.admins),
        localHosts: new Set(ctx.config.hosts),
      },
      mam: ctx.service("archive"),
    };
    await ctx.server.addHost(domain, "service", [mucServiceModule(opts)]);
    const item = { jid: domain, name: cfg.name };
    ctx.host.disco.items.push(item);
    ctx.onStop(() => {
      const i = ctx.host.disco.items.indexOf(item);
      if (i >= 0) ctx.host.disco.items.splice(i, 1);
    });
    // A deleted account loses its affiliations (and with them ownership and reserved nicks).
    ctx.on("account.deleted", async ({ username }) => {
      await opts.service?.forgetJid(`${username}@${ctx.host.name}`);
    });
  },
};
