/**
 * XEP-0004 Data Forms, the one implementation every module uses: typed field specs and a builder for the forms we
 * send, a typed view of the forms we receive, XEP-0068 FORM_TYPE, and checks that turn a bad submission into a
 * stanza error.
 */
import { StanzaError, type StanzaErrorCondition, type StanzaErrorType } from "../core/errors.ts";
import { type Jid, tryParseJid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "./ns.ts";

/** XEP-0068: the hidden field naming the protocol a form belongs to. */
export const FORM_TYPE = "FORM_TYPE";

/** XEP-0004 §3.1 form types. */
export type FormKind = "form" | "submit" | "cancel" | "result";

/** XEP-0004 §3.3 field types; a field without one is text-single. */
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

/** One choice of a list field (XEP-0004 §3.2 `<option/>`). */
export interface FieldOption {
  value: string;
  label?: string;
}

/** A field of a form we send (XEP-0004 §3.2). */
export interface FieldSpec {
  /** Names the field; only a `fixed` field may go without. */
  var?: string;
  type?: FieldType;
  label?: string;
  /** Help text a client may show next to the field (`<desc/>`). */
  desc?: string;
  required?: boolean;
  values?: readonly string[];
  options?: readonly FieldOption[];
  /** Extension children of `<field/>`, e.g. XEP-0122 `<validate/>`; they go before the values. */
  extensions?: readonly XmlElement[];
}

/** What a form we send says besides its type. */
export interface FormSpec {
  /** The protocol the form belongs to: becomes the hidden FORM_TYPE field, first of all (XEP-0068). */
  formType?: string;
  title?: string;
  instructions?: string;
  fields?: readonly FieldSpec[];
}

/** Builds `<x xmlns='jabber:x:data' type=…/>` (XEP-0004 §3.1). */
export function dataForm(type: FormKind, spec: FormSpec): XmlElement {
  const x = xml(
    "x",
    { xmlns: NS.dataForms, type },
    spec.title !== undefined ? xml("title", null, spec.title) : undefined,
    spec.instructions !== undefined ? xml("instructions", null, spec.instructions) : undefined,
  );
  if (spec.formType !== undefined) x.append(fieldElement({ var: FORM_TYPE, type: "hidden", values: [spec.formType] }));
  for (const f of spec.fields ?? []) x.append(fieldElement(f));
  return x;
}

/** One `<field/>`, its children in the order of the XEP-0004 schema: desc, required, value*, option*. */
export function fieldElement(f: FieldSpec): XmlElement {
  return xml(
    "field",
    { var: f.var, type: f.type, label: f.label },
    f.desc !== undefined ? xml("desc", null, f.desc) : undefined,
    f.required ? xml("required") : undefined,
    ...(f.extensions ?? []),
    ...(f.values ?? []).map((v) => xml("value", null, v)),
    ...(f.options ?? []).map((o) => xml("option", { label: o.label }, xml("value", null, o.value))),
  );
}

/** A field of a form we received, as it stands. */
export interface ReceivedField {
  var: string | undefined;
  type: string | undefined;
  values: string[];
}

/**
 * The fields of `<x/>` in document order, FORM_TYPE and fields without a var included (what XEP-0115 hashes).
 * A child that declares another namespace is not a field of the form.
 */
export function readFields(x: XmlElement): ReceivedField[] {
  const out: ReceivedField[] = [];
  for (const f of x.getChildren("field")) {
    if (f.attrs.xmlns !== undefined && f.attrs.xmlns !== NS.dataForms) continue;
    out.push({ var: f.attrs.var, type: f.attrs.type, values: f.getChildren("value").map((v) => v.text()) });
  }
  return out;
}

/** A form we received: its type, its FORM_TYPE and its fields' values. */
export interface ParsedForm {
  /** XEP-0004 §3.1; undefined when the attribute is missing or names no form type. */
  type: FormKind | undefined;
  /** The first value of the FORM_TYPE field (XEP-0068), if there is one. */
  formType: string | undefined;
  /** Values by var, FORM_TYPE and fields without a var left out. A var sent twice keeps its last field. */
  values: Map<string, string[]>;
}

const FORM_KINDS: readonly string[] = ["form", "submit", "cancel", "result"] satisfies FormKind[];

/** Reads a `<x xmlns='jabber:x:data'/>` element. */
export function parseForm(x: XmlElement): ParsedForm {
  const values = new Map<string, string[]>();
  let formType: string[] | undefined;
  for (const f of readFields(x)) {
    if (f.var === FORM_TYPE) formType = f.values;
    else if (f.var !== undefined) values.set(f.var, f.values);
  }
  const type = x.attrs.type;
  return {
    type: type !== undefined && FORM_KINDS.includes(type) ? (type as FormKind) : undefined,
    formType: formType?.[0],
    values,
  };
}

/** The first data form child of `parent` (e.g. an ad-hoc `<command/>` or a pubsub `<configure/>`), if any. */
export function readForm(parent: XmlElement | undefined): ParsedForm | undefined {
  const x = parent?.getChild("x", NS.dataForms);
  return x ? parseForm(x) : undefined;
}

/** The data form child of `parent` with this FORM_TYPE (a stanza may carry several forms), if any. */
export function findForm(parent: XmlElement, formType: string): ParsedForm | undefined {
  for (const x of parent.getChildren("x", NS.dataForms)) {
    const form = parseForm(x);
    if (form.formType === formType) return form;
  }
  return undefined;
}

/** The values of a form, or of no form at all. */
type Values = Pick<ParsedForm, "values"> | null | undefined;

/** Every value of a field (text-multi, jid-multi and list-multi have several); [] when absent. */
export function fieldValues(form: Values, name: string): string[] {
  return form?.values.get(name) ?? [];
}

/** The first value of a field; undefined when absent or empty (a field left blank often comes as `<value/>`). */
export function fieldValue(form: Values, name: string): string | undefined {
  const v = form?.values.get(name)?.[0];
  return v === undefined || v === "" ? undefined : v;
}

/**
 * The value of a field that takes one (XEP-0004 §3.3: boolean, jid-single, list-single, text-single…); undefined
 * when absent, bad-request when the submission gives several.
 */
export function singleValue(form: Values, name: string): string | undefined {
  const values = form?.values.get(name);
  if (values !== undefined && values.length > 1) {
    throw new StanzaError("modify", "bad-request", `'${name}' takes one value`);
  }
  return values?.[0];
}

/** XEP-0004 §3.3 boolean: "1"/"true" or "0"/"false"; anything else is undefined. */
export function parseBoolean(v: string | undefined): boolean | undefined {
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return undefined;
}

/** A boolean field's value; undefined when absent or not a §3.3 boolean. */
export function fieldBoolean(form: Values, name: string): boolean | undefined {
  return parseBoolean(form?.values.get(name)?.[0]);
}

/** Reads the value of a jid-single or jid-multi field (XEP-0004 §3.3); jid-malformed when it is not a JID. */
export function parseJidValue(value: string, field: string, text = `'${field}' is not a valid JID`): Jid {
  const jid = tryParseJid(value);
  if (!jid) throw new StanzaError("modify", "jid-malformed", text);
  return jid;
}

// ---- checking a submission against the form we sent ---------------------------------------------------------

/** What can be wrong with a submitted field. */
export type FormProblem = "unknown-field" | "missing-required" | "bad-option";

/** The first field of `form` that `specs` do not describe (FORM_TYPE is always known); undefined if none. */
export function unknownField(form: ParsedForm, specs: readonly FieldSpec[]): string | undefined {
  const known = new Set(specs.map((s) => s.var));
  for (const name of form.values.keys()) if (!known.has(name)) return name;
  return undefined;
}

/** The first `required` field (XEP-0004 §3.2) the form leaves absent or empty; undefined if none. */
export function missingRequired(form: ParsedForm, specs: readonly FieldSpec[]): string | undefined {
  for (const s of specs) {
    if (s.required && s.var !== undefined && !fieldValues(form, s.var).some((v) => v !== "")) return s.var;
  }
  return undefined;
}

/**
 * The first list field (§3.3 list-single, list-multi) with a value that is none of its options; undefined if
 * none. Fields sent without options accept any value.
 */
export function badOption(form: ParsedForm, specs: readonly FieldSpec[]): string | undefined {
  for (const s of specs) {
    if (s.var === undefined || !s.options?.length || (s.type !== "list-single" && s.type !== "list-multi")) continue;
    const allowed = new Set(s.options.map((o) => o.value));
    if (fieldValues(form, s.var).some((v) => !allowed.has(v))) return s.var;
  }
  return undefined;
}

/** The stanza error each problem maps to; XEP-0004 names none, so modules may choose theirs. */
export type FormErrors = Record<FormProblem, { type: StanzaErrorType; condition: StanzaErrorCondition }>;

const DEFAULT_ERRORS: FormErrors = {
  "unknown-field": { type: "modify", condition: "not-acceptable" },
  "missing-required": { type: "modify", condition: "not-acceptable" },
  "bad-option": { type: "modify", condition: "not-acceptable" },
};

const PROBLEM_TEXT: Record<FormProblem, (field: string) => string> = {
  "unknown-field": (f) => `The field '${f}' is not supported`,
  "missing-required": (f) => `The field '${f}' is required`,
  "bad-option": (f) => `Invalid value for '${f}'`,
};

/**
 * Checks a submission against the fields we sent, in this order: unknown fields (unless `allowUnknown`), missing
 * required ones, values outside a list's options. Throws the StanzaError `errors` maps the first problem to
 * (not-acceptable by default).
 */
export function validateForm(
  form: ParsedForm,
  specs: readonly FieldSpec[],
  opts: { allowUnknown?: boolean; errors?: Partial<FormErrors> } = {},
): void {
  const found: [FormProblem, string | undefined][] = [
    ["unknown-field", opts.allowUnknown ? undefined : unknownField(form, specs)],
    ["missing-required", missingRequired(form, specs)],
    ["bad-option", badOption(form, specs)],
  ];
  for (const [problem, field] of found) {
    if (field === undefined) continue;
    const { type, condition } = opts.errors?.[problem] ?? DEFAULT_ERRORS[problem];
    throw new StanzaError(type, condition, PROBLEM_TEXT[problem](field));
  }
}
