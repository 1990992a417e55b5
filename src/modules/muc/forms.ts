/** XEP-0004 data forms: just what the MUC forms (configuration, room info, voice requests, registration) need. */
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";

export interface FormField {
  var: string;
  type?:
    | "boolean"
    | "fixed"
    | "hidden"
    | "jid-multi"
    | "jid-single"
    | "list-multi"
    | "list-single"
    | "text-multi"
    | "text-private"
    | "text-single";
  label?: string;
  values?: string[];
  options?: { value: string; label?: string }[];
  required?: boolean;
}

/** Builds a `<x xmlns='jabber:x:data'/>` form; `formType` becomes the hidden FORM_TYPE field (XEP-0068). */
export function dataForm(
  type: "form" | "result" | "submit",
  formType: string,
  fields: FormField[],
  opts: { title?: string; instructions?: string } = {},
): XmlElement {
  const x = xml(
    "x",
    { xmlns: NS.dataForms, type },
    opts.title ? xml("title", null, opts.title) : undefined,
    opts.instructions ? xml("instructions", null, opts.instructions) : undefined,
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, formType)),
  );
  for (const f of fields) {
    x.append(
      xml(
        "field",
        { var: f.var, type: f.type, label: f.label },
        f.required ? xml("required") : undefined,
        ...(f.options ?? []).map((o) => xml("option", { label: o.label }, xml("value", null, o.value))),
        ...(f.values ?? []).map((v) => xml("value", null, v)),
      ),
    );
  }
  return x;
}

/** A submitted or received form: its type, FORM_TYPE and field values by var. */
export interface ParsedForm {
  type: string;
  formType: string | undefined;
  values: Map<string, string[]>;
}

export function parseForm(x: XmlElement): ParsedForm {
  const values = new Map<string, string[]>();
  for (const field of x.getChildren("field")) {
    const name = field.attrs.var;
    if (name === undefined) continue;
    values.set(
      name,
      field.getChildren("value").map((v) => v.text()),
    );
  }
  return { type: x.attrs.type ?? "", formType: values.get("FORM_TYPE")?.[0], values };
}

/** The data form child of a stanza or payload with the given FORM_TYPE, if any. */
export function findForm(parent: XmlElement, formType: string): ParsedForm | undefined {
  for (const x of parent.getChildren("x", NS.dataForms)) {
    const form = parseForm(x);
    if (form.formType === formType) return form;
  }
  return undefined;
}

/** XEP-0004 §3.3 boolean: "1"/"true" or "0"/"false"; anything else is undefined. */
export function parseBoolean(v: string | undefined): boolean | undefined {
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}
