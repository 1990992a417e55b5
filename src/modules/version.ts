import type { ModuleDefinition } from "../core/module.ts";
import { HEARTH_VERSION } from "../version.ts";

export { HEARTH_VERSION };

import { xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

/** XEP-0092 Software Version of the server. The OS is not disclosed (XEP-0092 §5 security note). */
export const versionModule: ModuleDefinition = {
  name: "version",
  specs: [{ spec: "XEP-0092", version: "1.1" }],
  load(ctx) {
    ctx.feature(NS.version);
    ctx.iq("get", NS.version, () =>
      xml("query", { xmlns: NS.version }, xml("name", null, "Hearth"), xml("version", null, HEARTH_VERSION)),
    );
  },
};
