import type { ModuleDefinition } from "../core/module.ts";
import { NS } from "../xmpp/ns.ts";

/** XEP-0199: answers pings to the server. (Client liveness pings are sent by the c2s stream.) */
export const pingModule: ModuleDefinition = {
  name: "ping",
  specs: [{ spec: "XEP-0199", version: "2.0.1" }],
  load(ctx) {
    ctx.feature(NS.ping);
    ctx.iq("get", NS.ping, () => null);
  },
};
