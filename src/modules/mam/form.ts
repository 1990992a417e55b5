/** The XEP-0004 data form of MAM queries (XEP-0313 §4.1): what the server offers and how a submitted one reads. */
import { StanzaError } from "../../core/errors.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { MAM_NAMESPACES, MAM_NS, NS_XDATA_VALIDATE } from "./ns.ts";

/** The fields Hearth understands in a query form. */
export const QUERY_FIELDS = ["with", "start", "end", "before-id", "after-id", "ids"] as const;
export type QueryField = (typeof QUERY_FIELDS)[number];

/**
 * The form a client gets with an iq get of an empty `<query/>` (XEP-0313 §4.1.5): the standard fields, the
 * extended ones (§4.1.4, advertised with `urn:xmpp:mam:2#extended`), and no `<required/>` on any of them.
 */
export function queryForm(ns: string): XmlElement {
  const field = (v: string, type: string) => xml("field", { var: v, type });
  return xml(
    "x",
    { xmlns: NS.dataForms, type: "form" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, ns)),
    field("with", "jid-single"),
    field("start", "text-single"),
    field("end", "text-single"),
    ns === MAM_NS.v2 && field("before-id", "text-single"),
    ns === MAM_NS.v2 && field("after-id", "text-single"),
    // §4.1.5: the list of ids is open; the server must not enumerate it.
    ns === MAM_NS.v2 &&
      xml(
        "field",
        { var: "ids", type: "list-multi" },
        xml("validate", { xmlns: NS_XDATA_VALIDATE, datatype: "xs:string" }, xml("open")),
      ),
  );
}

/**
 * The values of a submitted form, by field. Throws feature-not-implemented for a field Hearth does not know
 * (XEP-0313 §4.1.5) and bad-request for a form of another protocol.
 */
export function readQueryForm(x: XmlElement): Map<QueryField, string[]> {
  const values = new Map<QueryField, string[]>();
  for (const field of x.getChildren("field", NS.dataForms)) {
    const name = field.attrs.var ?? "";
    // <value/> inherits the form namespace from <field/>, which usually declares none itself.
    const vals = field.getChildren("value").map((v) => v.text());
    if (name === "FORM_TYPE") {
      // COMPAT: some clients put another MAM version's FORM_TYPE in the form; the query element's namespace decides.
      if (vals.length > 0 && !vals.every((v) => MAM_NAMESPACES.includes(v))) {
        throw new StanzaError("modify", "bad-request", `Unexpected FORM_TYPE ${vals.join(", ")}`);
      }
      continue;
    }
    if (!(QUERY_FIELDS as readonly string[]).includes(name)) {
      throw new StanzaError("cancel", "feature-not-implemented", `The query field '${name}' is not supported`);
    }
    // An empty value means the client left the field unused.
    const used = vals.filter((v) => v !== "");
    if (used.length > 0) values.set(name as QueryField, used);
  }
  return values;
}
