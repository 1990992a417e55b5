import type { ModuleDefinition } from "../core/module.ts";
import { xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/** XEP-0202 Entity Time: the server's clock in UTC (we report no local offset). */
export const timeModule: ModuleDefinition = {
  name: "time",
  specs: [{ spec: "XEP-0202", version: "2.0" }],
  load(ctx) {
    ctx.feature(NS.time);
    ctx.iq("get", NS.time, () =>
      xml(
        "time",
        { xmlns: NS.time },
        xml("tzo", null, "+00:00"),
        xml("utc", null, new Date().toISOString().replace(/\.\d{3}Z$/, "Z")),
      ),
    );
  },
};
