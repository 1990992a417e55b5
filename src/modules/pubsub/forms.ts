/** The few XEP-0004 data form operations pubsub needs: read a submitted form, write a form or result. */
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";

/** A submitted or received form: its type, its FORM_TYPE and its fields (var → values). */
export interface ParsedForm {
  type: string;
  formType: string | undefined;
  fields: Map<string, string[]>;
}

/** Reads the first `<x xmlns='jabber:x:data'/>` child of `parent`, if any. */
export function readForm(parent: XmlElement | undefined): ParsedForm | undefined {
  const x = parent?.getChild("x", NS.dataForms);
  if (!x) return undefined;
  const fields = new Map<string, string[]>();
  let formType: string | undefined;
  for (const f of x.getChildren("field")) {
    const name = f.attrs.var;
    if (name === undefined) continue;
    const values = f.getChildren("value").map((v) => v.text());
    if (name === "FORM_TYPE") formType = values[0];
    else fields.set(name, values);
  }
  return { type: x.attrs.type ?? "form", formType, fields };
}

/** How a field is shown in a form we send. */
export interface FieldDescription {
  var: string;
  type: string;
  label?: string;
  values: string[];
  options?: readonly string[];
}

/** Builds a form of `type` (`form`, `result`) with a hidden FORM_TYPE and the given fields. */
export function buildForm(type: string, formType: string, fields: FieldDescription[]): XmlElement {
  const x = xml(
    "x",
    { xmlns: NS.dataForms, type },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, formType)),
  );
  for (const f of fields) {
    x.append(
      xml(
        "field",
        { var: f.var, type: f.type, label: f.label },
        ...f.values.map((v) => xml("value", null, v)),
        ...(f.options ?? []).map((o) => xml("option", null, xml("value", null, o))),
      ),
    );
  }
  return x;
}
