/** XEP-0004 data forms as ad-hoc commands and registration use them: build forms and read submissions. */
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";

/** XEP-0004 §3.3 field types. */
export type FieldType =
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

/** A field of a form we send. */
export interface FormField {
  var?: string;
  type?: FieldType;
  label?: string;
  required?: boolean;
  values?: string[];
  options?: { label?: string; value: string }[];
}

/** What a form we send says besides its fields. */
export interface FormSpec {
  /** The hidden FORM_TYPE field (XEP-0068), if any. */
  formType?: string;
  title?: string;
  instructions?: string;
  fields: FormField[];
}

/** Builds `<x xmlns='jabber:x:data' type=…>` (XEP-0004 §3.1). */
export function dataForm(type: "form" | "result", spec: FormSpec): XmlElement {
  const x = xml(
    "x",
    { xmlns: NS.dataForms, type },
    spec.title !== undefined ? xml("title", null, spec.title) : undefined,
    spec.instructions !== undefined ? xml("instructions", null, spec.instructions) : undefined,
  );
  if (spec.formType !== undefined) {
    x.append(xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, spec.formType)));
  }
  for (const f of spec.fields) {
    x.append(
      xml(
        "field",
        { var: f.var, type: f.type, label: f.label },
        f.required ? xml("required") : undefined,
        ...(f.values ?? []).map((v) => xml("value", null, v)),
        ...(f.options ?? []).map((o) => xml("option", { label: o.label }, xml("value", null, o.value))),
      ),
    );
  }
  return x;
}

/** A form a client submitted. */
export interface SubmittedForm {
  type: string;
  formType: string | undefined;
  /** Every value of a field (text-multi and jid-multi have several); [] when absent. */
  values(name: string): string[];
  /** The first value of a field; undefined when absent or empty. */
  value(name: string): string | undefined;
  /** XEP-0004 §3.3 boolean: "1"/"true" are true. */
  bool(name: string): boolean;
}

/** Reads the first data form child of `parent` (e.g. a `<command/>` or `<query/>`), if any. */
export function readDataForm(parent: XmlElement | undefined): SubmittedForm | null {
  const x = parent?.getChild("x", NS.dataForms);
  if (!x) return null;
  const fields = new Map<string, string[]>();
  for (const f of x.getChildren("field")) {
    if (f.attrs.var === undefined) continue;
    fields.set(
      f.attrs.var,
      f.getChildren("value").map((v) => v.text()),
    );
  }
  const values = (name: string) => fields.get(name) ?? [];
  return {
    type: x.attrs.type ?? "form",
    formType: fields.get("FORM_TYPE")?.[0],
    values,
    value: (name) => {
      const v = values(name)[0];
      return v === undefined || v === "" ? undefined : v;
    },
    bool: (name) => {
      const v = values(name)[0];
      return v === "1" || v === "true";
    },
  };
}
