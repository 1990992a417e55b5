import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StanzaError } from "../../src/core/errors.ts";
import { parseDocument } from "../../src/xml/document.ts";
import type { XmlElement } from "../../src/xml/element.ts";
import {
  badOption,
  dataForm,
  type FieldSpec,
  fieldBoolean,
  fieldValue,
  fieldValues,
  findForm,
  missingRequired,
  parseBoolean,
  parseForm,
  parseJidValue,
  readFields,
  readForm,
  singleValue,
  unknownField,
  validateForm,
} from "../../src/xmpp/data-forms.ts";

const LIMITS = { maxStanzaBytes: 100_000, maxDepth: 20 };
const el = (s: string): XmlElement => parseDocument(s, LIMITS);

function stanzaError(fn: () => unknown): { type: string; condition: string; text?: string } | "no error" {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) return { type: err.type, condition: err.condition, text: err.text };
    throw err;
  }
  return "no error";
}

// The bot configuration form of XEP-0004 §5.1 (Example 2), as field specs.
const BOT_FIELDS: FieldSpec[] = [
  { type: "fixed", values: ["Section 1: Bot Info"] },
  { var: "botname", type: "text-single", label: "The name of your bot" },
  { var: "description", type: "text-multi", label: "Helpful description of your bot" },
  { var: "public", type: "boolean", label: "Public bot?", required: true },
  { var: "password", type: "text-private", label: "Password for special access" },
  {
    var: "features",
    type: "list-multi",
    label: "What features will the bot support?",
    values: ["news", "search"],
    options: [
      { label: "Contests", value: "contests" },
      { label: "News", value: "news" },
      { label: "Polls", value: "polls" },
      { label: "Reminders", value: "reminders" },
      { label: "Search", value: "search" },
    ],
  },
  {
    var: "maxsubs",
    type: "list-single",
    label: "Maximum number of subscribers",
    values: ["20"],
    options: ["10", "20", "30", "50", "100"].map((value) => ({ label: value, value })),
  },
  {
    var: "invitelist",
    type: "jid-multi",
    label: "People to invite",
    desc: "Tell all your friends about your new bot!",
  },
  { var: "botjid", type: "jid-single", label: "The JID of the bot" },
];

// The submission of XEP-0004 §5.1 (Example 3).
const BOT_SUBMIT = `<x xmlns='jabber:x:data' type='submit'>
  <field type='hidden' var='FORM_TYPE'><value>jabber:bot</value></field>
  <field type='text-single' var='botname'><value>The Jabber Google Bot</value></field>
  <field type='text-multi' var='description'>
    <value>This bot enables you to send requests to</value>
    <value>Google and receive the search results right</value>
    <value>in your Jabber client. It&apos;s really cool!</value>
    <value>It even supports Google News!</value>
  </field>
  <field type='boolean' var='public'><value>0</value></field>
  <field type='text-private' var='password'><value>v3r0na</value></field>
  <field type='list-multi' var='features'><value>news</value><value>search</value></field>
  <field type='list-single' var='maxsubs'><value>50</value></field>
  <field type='jid-multi' var='invitelist'><value>juliet@capulet.com</value><value>benvolio@montague.net</value></field>
</x>`;

describe("data forms: building (XEP-0004 §3)", () => {
  it("writes the §5.1 configuration form with FORM_TYPE first and field children in schema order", () => {
    const x = dataForm("form", {
      formType: "jabber:bot",
      title: "Bot Configuration",
      instructions: "Fill out this form to configure your new bot!",
      fields: BOT_FIELDS,
    });
    const s = x.toString();
    assert.ok(
      s.startsWith(
        '<x xmlns="jabber:x:data" type="form"><title>Bot Configuration</title>' +
          "<instructions>Fill out this form to configure your new bot!</instructions>" +
          '<field var="FORM_TYPE" type="hidden"><value>jabber:bot</value></field>' +
          '<field type="fixed"><value>Section 1: Bot Info</value></field>',
      ),
      s,
    );
    assert.ok(s.includes('<field var="public" type="boolean" label="Public bot?"><required/></field>'), s);
    assert.ok(
      s.includes(
        '<field var="maxsubs" type="list-single" label="Maximum number of subscribers"><value>20</value>' +
          '<option label="10"><value>10</value></option>',
      ),
      s,
    );
    assert.ok(
      s.includes(
        '<field var="invitelist" type="jid-multi" label="People to invite">' +
          "<desc>Tell all your friends about your new bot!</desc></field>",
      ),
      s,
    );
  });

  it("writes result, submit and cancel forms; without a FORM_TYPE there is no hidden field", () => {
    assert.equal(dataForm("cancel", {}).toString(), '<x xmlns="jabber:x:data" type="cancel"/>');
    assert.equal(
      dataForm("submit", { fields: [{ var: "public", values: ["1"] }] }).toString(),
      '<x xmlns="jabber:x:data" type="submit"><field var="public"><value>1</value></field></x>',
    );
    const result = dataForm("result", { formType: "urn:example", fields: [{ var: "n", values: [] }] });
    assert.deepEqual(readFields(result), [
      { var: "FORM_TYPE", type: "hidden", values: ["urn:example"] },
      { var: "n", type: undefined, values: [] },
    ]);
  });

  it("puts extension elements such as XEP-0122 <validate/> before the values", () => {
    const validate = el("<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:string'/>");
    const x = dataForm("form", { fields: [{ var: "ids", type: "list-multi", extensions: [validate], values: ["a"] }] });
    assert.deepEqual(
      x
        .getChild("field")
        ?.elements()
        .map((c) => c.name),
      ["validate", "value"],
    );
  });
});

describe("data forms: reading (XEP-0004 §3, XEP-0068)", () => {
  it("reads the §5.1 submission: type, FORM_TYPE, single and multiple values", () => {
    const form = parseForm(el(BOT_SUBMIT));
    assert.equal(form.type, "submit");
    assert.equal(form.formType, "jabber:bot");
    assert.equal(form.values.has("FORM_TYPE"), false);
    assert.equal(fieldValue(form, "botname"), "The Jabber Google Bot");
    assert.equal(fieldValues(form, "description").length, 4);
    assert.equal(fieldValues(form, "description")[2], "in your Jabber client. It's really cool!");
    assert.equal(fieldBoolean(form, "public"), false);
    assert.deepEqual(fieldValues(form, "features"), ["news", "search"]);
    assert.deepEqual(fieldValues(form, "invitelist"), ["juliet@capulet.com", "benvolio@montague.net"]);
    assert.deepEqual(fieldValues(form, "botjid"), []);
    assert.equal(fieldValue(form, "botjid"), undefined);
  });

  it("reads a form it built back to the same values", () => {
    const form = parseForm(dataForm("form", { formType: "jabber:bot", fields: BOT_FIELDS }));
    assert.equal(form.type, "form");
    assert.equal(form.formType, "jabber:bot");
    assert.deepEqual(fieldValues(form, "features"), ["news", "search"]);
    assert.equal(form.values.size, BOT_FIELDS.length - 1, "the fixed field has no var");
  });

  it("treats an empty value as no value, and tells absent from empty where asked", () => {
    const form = parseForm(el("<x xmlns='jabber:x:data' type='submit'><field var='a'><value/></field></x>"));
    assert.equal(fieldValue(form, "a"), undefined);
    assert.deepEqual(fieldValues(form, "a"), [""]);
    assert.equal(singleValue(form, "a"), "");
    assert.equal(singleValue(form, "b"), undefined);
    assert.equal(fieldValue(undefined, "a"), undefined);
    assert.deepEqual(fieldValues(null, "a"), []);
  });

  it("parses §3.3 booleans: 1/true and 0/false, nothing else", () => {
    assert.equal(parseBoolean("1"), true);
    assert.equal(parseBoolean("true"), true);
    assert.equal(parseBoolean("0"), false);
    assert.equal(parseBoolean("false"), false);
    for (const v of ["yes", "TRUE", " 1", "", undefined]) assert.equal(parseBoolean(v), undefined, String(v));
  });

  it("refuses several values in a single-valued field", () => {
    const form = parseForm(
      el("<x xmlns='jabber:x:data' type='submit'><field var='with'><value>a@b</value><value>c@d</value></field></x>"),
    );
    assert.deepEqual(
      stanzaError(() => singleValue(form, "with")),
      {
        type: "modify",
        condition: "bad-request",
        text: "'with' takes one value",
      },
    );
  });

  it("validates JID values (jid-single, jid-multi)", () => {
    assert.equal(parseJidValue("Juliet@Capulet.lit/Balcony", "with").toString(), "juliet@capulet.lit/Balcony");
    assert.deepEqual(
      stanzaError(() => parseJidValue("@nope", "with")),
      {
        type: "modify",
        condition: "jid-malformed",
        text: "'with' is not a valid JID",
      },
    );
    const custom = stanzaError(() => parseJidValue("a@b@c", "accountjid", "Not an account"));
    assert.equal(custom !== "no error" && custom.text, "Not an account");
  });

  it("leaves the type undefined when it is missing or unknown", () => {
    assert.equal(parseForm(el("<x xmlns='jabber:x:data'/>")).type, undefined);
    assert.equal(parseForm(el("<x xmlns='jabber:x:data' type='bogus'/>")).type, undefined);
    assert.equal(parseForm(el("<x xmlns='jabber:x:data' type='cancel'/>")).type, "cancel");
  });

  it("keeps fields without a var and FORM_TYPE in readFields, skips children of another namespace", () => {
    const x = el(
      "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>urn:a</value></field>" +
        "<field type='fixed'><value>note</value></field><field xmlns='urn:other' var='z'/><field var='b'/></x>",
    );
    assert.deepEqual(
      readFields(x).map((f) => f.var),
      ["FORM_TYPE", undefined, "b"],
    );
    const form = parseForm(x);
    assert.equal(form.formType, "urn:a");
    assert.deepEqual([...form.values.keys()], ["b"]);
  });

  it("finds the form with a given FORM_TYPE among a stanza's children, and the first form of a payload", () => {
    const message = el(
      "<message xmlns='jabber:client'>" +
        "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>urn:one</value></field></x>" +
        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:two</value></field>" +
        "<field var='k'><value>v</value></field></x></message>",
    );
    assert.equal(fieldValue(findForm(message, "urn:two"), "k"), "v");
    assert.equal(findForm(message, "urn:three"), undefined);
    assert.equal(readForm(message)?.formType, "urn:one");
    assert.equal(readForm(el("<command xmlns='http://jabber.org/protocol/commands'/>")), undefined);
    assert.equal(readForm(undefined), undefined);
  });
});

describe("data forms: checking a submission against the form sent", () => {
  const submitted = (fields: string) => parseForm(el(`<x xmlns='jabber:x:data' type='submit'>${fields}</x>`));

  it("finds unknown fields, missing required fields and values outside the options", () => {
    const ok = parseForm(el(BOT_SUBMIT));
    assert.equal(unknownField(ok, BOT_FIELDS), undefined);
    assert.equal(missingRequired(ok, BOT_FIELDS), undefined);
    assert.equal(badOption(ok, BOT_FIELDS), undefined);
    assert.doesNotThrow(() => validateForm(ok, BOT_FIELDS));

    assert.equal(unknownField(submitted("<field var='colour'><value>red</value></field>"), BOT_FIELDS), "colour");
    assert.equal(missingRequired(submitted("<field var='public'><value/></field>"), BOT_FIELDS), "public");
    assert.equal(missingRequired(submitted(""), BOT_FIELDS), "public");
    assert.equal(
      badOption(submitted("<field var='features'><value>news</value><value>x</value></field>"), BOT_FIELDS),
      "features",
    );
    assert.equal(badOption(submitted("<field var='maxsubs'><value>15</value></field>"), BOT_FIELDS), "maxsubs");
  });

  it("throws not-acceptable by default, or the error a module maps the problem to", () => {
    const unknown = submitted("<field var='public'><value>1</value></field><field var='colour'/>");
    assert.deepEqual(
      stanzaError(() => validateForm(unknown, BOT_FIELDS)),
      {
        type: "modify",
        condition: "not-acceptable",
        text: "The field 'colour' is not supported",
      },
    );
    assert.equal(
      stanzaError(() => validateForm(unknown, BOT_FIELDS, { allowUnknown: true })),
      "no error",
    );
    const mapped = stanzaError(() =>
      validateForm(unknown, BOT_FIELDS, {
        errors: { "unknown-field": { type: "cancel", condition: "feature-not-implemented" } },
      }),
    );
    assert.equal(mapped !== "no error" && mapped.condition, "feature-not-implemented");
    const missing = stanzaError(() => validateForm(submitted(""), BOT_FIELDS));
    assert.equal(missing !== "no error" && missing.text, "The field 'public' is required");
  });
});
