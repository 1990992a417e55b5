/** The XEP-0004 data form of MAM queries (XEP-0313 §4.1): what the server offers and how a submitted one reads. */
import { StanzaError } from "../../core/errors.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { dataForm, type FieldSpec, FORM_TYPE, type ParsedForm, readFields } from "../../xmpp/data-forms.ts";
import { MAM_NAMESPACES, MAM_NS, NS_XDATA_VALIDATE } from "./ns.ts";

/** The fields Hearth understands in a query form: the standard ones, then the extended ones (§4.1.4). */
const QUERY_FIELDS: readonly FieldSpec[] = [
  { var: "with", type: "jid-single" },
  { var: "start", type: "text-single" },
  { var: "end", type: "text-single" },
  { var: "before-id", type: "text-single" },
  { var: "after-id", type: "text-single" },
  // §4.1.5: the list of ids is open; the server must not enumerate it.
  {
    var: "ids",
    type: "list-multi",
    extensions: [xml("validate", { xmlns: NS_XDATA_VALIDATE, datatype: "xs:string" }, xml("open"))],
  },
];
const STANDARD_FIELDS = 3;

/**
 * The form a client gets with an iq get of an empty `<query/>` (XEP-0313 §4.1.5): the standard fields, the
 * extended ones (§4.1.4, advertised with `urn:xmpp:mam:2#extended`), and no `<required/>` on any of them.
 */
export function queryForm(ns: string): XmlElement {
  return dataForm("form", {
    formType: ns,
    fields: ns === MAM_NS.v2 ? QUERY_FIELDS : QUERY_FIELDS.slice(0, STANDARD_FIELDS),
  });
}

/**
 * The used values of a submitted form, by field (a field whose values are all empty is left out). Throws
 * feature-not-implemented for a field Hearth does not know (XEP-0313 §4.1.5), a field without a var included, and
 * bad-request for a form of another protocol.
 */
export function readQueryForm(x: XmlElement): Pick<ParsedForm, "values"> {
  const values = new Map<string, string[]>();
  for (const field of readFields(x)) {
    const name = field.var ?? "";
    if (name === FORM_TYPE) {
      // COMPAT: some clients put another MAM version's FORM_TYPE in the form; the query element's namespace decides.
      if (field.values.length > 0 && !field.values.every((v) => MAM_NAMESPACES.includes(v))) {
        throw new StanzaError("modify", "bad-request", `Unexpected FORM_TYPE ${field.values.join(", ")}`);
      }
      continue;
    }
    if (!QUERY_FIELDS.some((f) => f.var === name)) {
      throw new StanzaError("cancel", "feature-not-implemented", `The query field '${name}' is not supported`);
    }
    // An empty value means the client left the field unused.
    const used = field.values.filter((v) => v !== "");
    if (used.length > 0) values.set(name, used);
  }
  return { values };
}
