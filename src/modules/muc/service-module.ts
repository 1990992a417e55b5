/**
 * The module loaded on a MUC service host (`conference.<domain>`): it owns every stanza addressed to the service,
 * its rooms and their occupants, and wires them to the handlers of this folder.
 */
import { randomBytes } from "node:crypto";
import { StanzaError } from "../../core/errors.ts";
import type { StanzaEvent } from "../../core/host.ts";
import type { ModuleDefinition } from "../../core/module.ts";
import { xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { adminGet, adminSet, roomOf } from "./admin.ts";
import { RoomArchive } from "./archive.ts";
import { roomVcardGet, roomVcardSet } from "./avatar.ts";
import { roomInfoHandler, roomItemsHandler, serviceInfo, serviceItems } from "./disco.ts";
import { IqForwarder } from "./iq-forward.ts";
import { roomMam } from "./mam.ts";
import { occupantMessage, roomMessage } from "./messages.ts";
import { LEGACY_NS, moderate } from "./moderation.ts";
import { MUC_NS, STATUS } from "./ns.ts";
import { barePresence, occupantPresence } from "./occupancy.ts";
import { ownerGet, ownerSet } from "./owner.ts";
import { registerGet, registerSet } from "./registration.ts";
import { type ArchiveApi, MucService, type MucSettings } from "./service.ts";

/** What the user host's `muc` module hands the service host. */
export interface MucServiceOptions {
  settings: MucSettings;
  mam: ArchiveApi | undefined;
  /** Filled in when the service host loads, for the user host's hooks (account deletion). */
  service?: MucService;
}

export function mucServiceModule(opts: MucServiceOptions): ModuleDefinition {
  return {
    name: "muc-service",
    hostKind: "service",
    load(ctx) {
      const svc = new MucService(ctx, opts.settings, new RoomArchive(ctx.storage, ctx.host.name), opts.mam);
      opts.service = svc;
      const forwarder = new IqForwarder(svc);

      // The service JID (§6.1, §6.3, §10.1.4).
      ctx.iq("get", NS.discoInfo, (ev) => {
        if (ev.stanza.firstElement()?.attrs.node !== undefined) throw new StanzaError("cancel", "item-not-found");
        return serviceInfo(svc);
      });
      ctx.iq("get", NS.discoItems, (ev) => serviceItems(svc, ev));
      ctx.iq("get", MUC_NS.unique, () => {
        let name: string;
        do name = randomBytes(6).toString("hex");
        while (svc.rooms.has(name));
        return xml("unique", { xmlns: MUC_NS.unique }, name);
      });
      ctx.iq("get", NS.ping, () => null);

      // Rooms.
      const bare = (type: "get" | "set", ns: string, handler: (ev: StanzaEvent) => ReturnType<typeof adminGet>) =>
        ctx.iq(type, ns, handler, "bare");
      bare("get", NS.discoInfo, (ev) => roomInfoHandler(svc, ev));
      bare("get", NS.discoItems, (ev) => roomItemsHandler(svc, ev));
      bare("get", NS.ping, async (ev) => {
        await roomOf(svc, ev);
        return null;
      });
      bare("get", MUC_NS.admin, (ev) => adminGet(svc, ev));
      bare("set", MUC_NS.admin, (ev) => adminSet(svc, ev));
      bare("get", MUC_NS.owner, (ev) => ownerGet(svc, ev));
      bare("set", MUC_NS.owner, (ev) => ownerSet(svc, ev));
      bare("get", MUC_NS.iqRegister, (ev) => registerGet(svc, ev));
      bare("set", MUC_NS.iqRegister, (ev) => registerSet(svc, ev));
      bare("get", MUC_NS.vcard, (ev) => roomVcardGet(svc, ev));
      bare("set", MUC_NS.vcard, (ev) => roomVcardSet(svc, ev));
      bare("set", MUC_NS.moderate, (ev) => moderate(svc, ev));
      bare("set", LEGACY_NS.fasten, (ev) => moderate(svc, ev));
      for (const ns of opts.mam?.namespaces ?? []) {
        ctx.on(`iq-get/bare/${ns}`, (ev) => roomMam(svc, ev));
        ctx.on(`iq-set/bare/${ns}`, (ev) => roomMam(svc, ev));
      }
      ctx.on("message/bare", (ev) => roomMessage(svc, ev));
      ctx.on("presence/bare", (ev) => barePresence(svc, ev));

      // Occupants.
      ctx.on("presence/full", (ev) => occupantPresence(svc, ev));
      ctx.on("message/full", (ev) => occupantMessage(svc, ev));
      ctx.on("iq/full", (ev) => forwarder.handle(ev));

      // The service itself takes no presence (RFC 6121 §8.5 would drop it anyway).
      ctx.on("presence/host", () => true);

      ctx.onStop(async () => {
        forwarder.stop();
        // Occupants still here (remote ones: local clients left as their streams closed) learn why (332).
        for (const room of [...svc.rooms.values()]) {
          for (const o of [...room.occupants.values()]) {
            await svc.removeOccupant(room, o, { codes: [STATUS.shutdown] });
          }
        }
      });
    },
  };
}
