import type { ModuleDefinition } from "../core/module.ts";
import { dataForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";

/**
 * XEP-0157 contact addresses, published as a XEP-0128 extended-info form in the server's disco#info.
 * Only added when the admin configured at least one address.
 */
export const contactAddressesModule: ModuleDefinition = {
  name: "contact-addresses",
  specs: [
    { spec: "XEP-0128", version: "1.0" },
    { spec: "XEP-0157", version: "1.1.1" },
  ],
  load(ctx) {
    const c = ctx.config.contact;
    const fields: [string, string[]][] = [
      ["abuse-addresses", c.abuse],
      ["admin-addresses", c.admin],
      ["feedback-addresses", c.feedback],
      ["sales-addresses", c.sales],
      ["security-addresses", c.security],
      ["support-addresses", c.support],
    ];
    if (fields.every(([, v]) => v.length === 0)) return;
    ctx.discoExtension(
      dataForm("result", {
        formType: NS.serverInfo,
        fields: fields.filter(([, values]) => values.length > 0).map(([name, values]) => ({ var: name, values })),
      }),
    );
  },
};
