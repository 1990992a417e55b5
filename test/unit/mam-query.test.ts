import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StanzaError } from "../../src/core/errors.ts";
import { parseJid } from "../../src/jid/jid.ts";
import { worthArchiving } from "../../src/modules/mam/policy.ts";
import { parsePrefs, prefsAllow } from "../../src/modules/mam/prefs.ts";
import { parseDateTime, parseMamQuery } from "../../src/modules/mam/query.ts";
import { parseRsm } from "../../src/modules/mam/rsm.ts";
import { parseDocument } from "../../src/xml/document.ts";
import type { XmlElement } from "../../src/xml/element.ts";

const LIMITS = { maxStanzaBytes: 100_000, maxDepth: 20 };
const el = (s: string): XmlElement => parseDocument(s, LIMITS);

function condition(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) return err.condition;
    throw err;
  }
  return "no error";
}

const form = (ns: string, fields: string) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${ns}</value></field>${fields}</x>`;

describe("MAM query parsing (XEP-0313 §4, XEP-0059)", () => {
  it("reads form filters, RSM and flip-page", () => {
    const q = el(
      `<query xmlns='urn:xmpp:mam:2' queryid='f27'>${form(
        "urn:xmpp:mam:2",
        "<field var='with'><value>Juliet@Capulet.lit/Balcony</value></field>" +
          "<field var='start'><value>2010-06-07T00:00:00Z</value></field>" +
          "<field var='end'><value>2010-06-07T02:00:00.500+02:00</value></field>" +
          "<field var='ids'><value>a</value><value>b</value></field>" +
          "<field var='after-id'><value></value></field>",
      )}<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set><flip-page/></query>`,
    );
    const r = parseMamQuery(q, "urn:xmpp:mam:2", 250);
    assert.equal(r.queryId, "f27");
    assert.deepEqual(r.filter, {
      with: "juliet@capulet.lit/Balcony",
      start: Date.UTC(2010, 5, 7),
      end: Date.UTC(2010, 5, 7, 0, 0, 0, 500),
      ids: ["a", "b"],
    });
    assert.deepEqual(r.rsm, { max: 10, before: true });
    assert.equal(r.flip, true);
  });

  it("accepts the first drafts' child filters in urn:xmpp:mam:0 only", () => {
    const q = (ns: string) =>
      el(`<query xmlns='${ns}'><with>romeo@montague.lit</with><start>2010-08-07T00:00:00Z</start></query>`);
    assert.deepEqual(parseMamQuery(q("urn:xmpp:mam:0"), "urn:xmpp:mam:0", 10).filter, {
      with: "romeo@montague.lit",
      start: Date.UTC(2010, 7, 7),
    });
    assert.deepEqual(parseMamQuery(q("urn:xmpp:mam:2"), "urn:xmpp:mam:2", 10).filter, {});
  });

  it("refuses unknown fields, bad values and ambiguous paging", () => {
    const q = (fields: string, extra = "") =>
      el(`<query xmlns='urn:xmpp:mam:2'>${form("urn:xmpp:mam:2", fields)}${extra}</query>`);
    const parse = (x: XmlElement) => () => parseMamQuery(x, "urn:xmpp:mam:2", 2);
    assert.equal(condition(parse(q("<field var='{urn:x}search'><value>x</value></field>"))), "feature-not-implemented");
    assert.equal(condition(parse(q("<field var='start'><value>2010-06-07</value></field>"))), "bad-request");
    assert.equal(condition(parse(q("<field var='with'><value>a@b</value><value>c@d</value></field>"))), "bad-request");
    assert.equal(condition(parse(q("<field var='with'><value>@nope</value></field>"))), "jid-malformed");
    assert.equal(
      condition(parse(q("<field var='ids'><value>1</value><value>2</value><value>3</value></field>"))),
      "policy-violation",
    );
    const otherForm = el(`<query xmlns='urn:xmpp:mam:2'>${form("jabber:iq:search", "")}</query>`);
    assert.equal(condition(parse(otherForm)), "bad-request");
    // COMPAT: another MAM version's FORM_TYPE is fine.
    assert.equal(
      condition(parse(el(`<query xmlns='urn:xmpp:mam:2'>${form("urn:xmpp:mam:1", "")}</query>`))),
      "no error",
    );
  });

  it("parses RSM requests strictly", () => {
    const rsm = (inner: string) => el(`<set xmlns='http://jabber.org/protocol/rsm'>${inner}</set>`);
    assert.deepEqual(parseRsm(rsm("<max>0</max><after>x</after><index>3</index>")), { max: 0, index: 3, after: "x" });
    assert.deepEqual(parseRsm(rsm("<before>id-1</before>")), { before: "id-1" });
    assert.deepEqual(parseRsm(undefined), {});
    for (const bad of [
      "<max>-1</max>",
      "<max>ten</max>",
      "<max>99999999999</max>",
      "<after/>",
      "<after>a</after><before/>",
    ]) {
      assert.equal(
        condition(() => parseRsm(rsm(bad))),
        "bad-request",
        bad,
      );
    }
  });

  it("parses XEP-0082 times with offsets and fractions, and nothing else", () => {
    assert.equal(parseDateTime("1969-07-21T02:56:15Z", "start"), Date.UTC(1969, 6, 21, 2, 56, 15));
    assert.equal(parseDateTime("1969-07-20T21:56:15-05:00", "start"), Date.UTC(1969, 6, 21, 2, 56, 15));
    assert.equal(parseDateTime("1969-07-21T02:56:15.123Z", "start"), Date.UTC(1969, 6, 21, 2, 56, 15, 123));
    for (const bad of ["1969-07-21", "1969-07-21T02:56:15", "yesterday", "1969-13-45T99:99:99Z"]) {
      assert.equal(
        condition(() => parseDateTime(bad, "start")),
        "bad-request",
        bad,
      );
    }
  });
});

describe("archiving policy and preferences (XEP-0313 §5.1.1, XEP-0441)", () => {
  it("archives conversation content of chat and normal messages only", () => {
    const yes = [
      "<message type='chat'><body>hi</body></message>",
      "<message><body>normal without a type</body></message>",
      "<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>",
      "<message type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='x'/></message>",
      "<message type='chat'><store xmlns='urn:xmpp:hints'/></message>",
      "<message><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x></message>",
    ];
    const no = [
      "<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
      "<message type='headline'><body>news</body></message>",
      "<message type='groupchat'><body>room</body></message>",
      "<message type='error'><body>oops</body></message>",
      "<message type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>",
      "<message type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>",
      "<message type='chat'><received xmlns='urn:xmpp:receipts' id='1'/></message>",
    ];
    for (const s of yes) assert.equal(worthArchiving(el(s)), true, s);
    for (const s of no) assert.equal(worthArchiving(el(s)), false, s);
  });

  it("applies never, then always, then the default", async () => {
    const prefs = parsePrefs(
      el(
        "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>a@x</jid><jid>both@x</jid></always>" +
          "<never><jid>n@x/phone</jid><jid>Both@x</jid></never></prefs>",
      ),
      "urn:xmpp:mam:2",
    );
    assert.deepEqual(prefs, { default: "roster", always: ["a@x", "both@x"], never: ["n@x/phone", "both@x"] });
    const inRoster = async () => true;
    const notInRoster = async () => false;
    assert.equal(await prefsAllow(prefs, parseJid("a@x/any"), notInRoster), true);
    assert.equal(await prefsAllow(prefs, parseJid("both@x"), inRoster), false, "never wins");
    assert.equal(await prefsAllow(prefs, parseJid("n@x/phone"), inRoster), false);
    assert.equal(
      await prefsAllow(prefs, parseJid("n@x/laptop"), inRoster),
      true,
      "a full JID in never is only that one",
    );
    assert.equal(await prefsAllow(prefs, parseJid("c@x"), notInRoster), false);
    assert.equal(await prefsAllow({ ...prefs, default: "always" }, parseJid("c@x"), notInRoster), true);
    assert.equal(await prefsAllow({ ...prefs, default: "never" }, parseJid("c@x"), inRoster), false);
    assert.equal(
      condition(() => parsePrefs(el("<prefs xmlns='urn:xmpp:mam:2'/>"), "urn:xmpp:mam:2")),
      "bad-request",
    );
  });
});
