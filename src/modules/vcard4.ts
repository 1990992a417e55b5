import { StanzaError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { pubsubErrors } from "./pubsub/errors.ts";

export const NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0";
/** XEP-0292 §4.2: the PEP node holding the account's vCard, as item "current". */
export const VCARD4_NODE = "urn:xmpp:vcard4";

/**
 * XEP-0292 vCard4 over XMPP: the vCard lives in the PEP node `urn:xmpp:vcard4` (default access: presence), so it
 * is published, fetched and notified like any PEP data. This module checks what is stored there, and also answers
 * the IQ-based retrieval and publication of earlier versions of the spec, which some clients still send, from and to
 * that same node.
 */
export const vcard4Module: ModuleDefinition = {
  name: "vcard4",
  specs: [{ spec: "XEP-0292", version: "0.12.0" }],
  load(ctx) {
    const pep = ctx.service("pep");
    if (!pep) throw new Error("the vcard4 module needs the pep module");

    pep.addPolicy(VCARD4_NODE, {
      validate(payload) {
        if (payload.name !== "vcard" || payload.attrs.xmlns !== NS_VCARD4) {
          throw pubsubErrors.invalidPayload("A vCard4 is a <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>");
        }
      },
    });
    ctx.accountFeature(NS_VCARD4);

    ctx.iq(
      "get",
      NS_VCARD4,
      async (ev) => {
        if (
          ev.from.bareString !== ev.to.bareString &&
          !(await ctx.storage.accounts.exists(ctx.host.name, ev.to.local))
        ) {
          throw new StanzaError("cancel", "item-not-found");
        }
        let items: { payload: XmlElement | null }[] = [];
        try {
          items = await pep.itemsFor(ev.to.local, VCARD4_NODE, ev.from, { max: 1 });
        } catch (err) {
          // No vCard yet: an empty one (XEP-0292 0.10 §4.1.1); no access: the same error as the PEP node gives.
          if (!(err instanceof StanzaError) || err.condition !== "item-not-found") throw err;
        }
        return items[0]?.payload ?? xml("vcard", { xmlns: NS_VCARD4 });
      },
      "bare",
    );

    ctx.iq(
      "set",
      NS_VCARD4,
      async (ev) => {
        if (ev.from.bareString !== ev.to.bareString) throw new StanzaError("auth", "forbidden");
        const vcard = ev.stanza.firstElement() as XmlElement;
        await pep.publish(ev.to.local, VCARD4_NODE, { id: "current", payload: vcard.clone() });
        return null;
      },
      "bare",
    );
  },
};
