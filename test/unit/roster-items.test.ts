import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StanzaError } from "../../src/core/errors.ts";
import { itemElement, parseRosterSet } from "../../src/modules/im/roster-items.ts";
import { parseDocument } from "../../src/xml/document.ts";

const parse = (s: string) => parseRosterSet(parseDocument(s, { maxStanzaBytes: 100_000, maxDepth: 10 }));

function rejects(s: string, condition: string): void {
  assert.throws(
    () => parse(s),
    (err: unknown) => err instanceof StanzaError && err.condition === condition,
    `${s} → ${condition}`,
  );
}

describe("parseRosterSet (RFC 6121 §2.3)", () => {
  it("decodes an item with name and groups", () => {
    assert.deepEqual(
      parse(
        "<query xmlns='jabber:iq:roster'><item jid='Nurse@Example.com' name='Nurse'><group>Servants</group><group>X</group></item></query>",
      ),
      { kind: "update", jid: "nurse@example.com", name: "Nurse", groups: ["Servants", "X"] },
    );
  });

  it("checks the groups of a huge item in linear time (was quadratic: 30000 groups blocked the server for a second)", () => {
    const groups = Array.from({ length: 30_000 }, (_, i) => `<group>g${i}</group>`).join("");
    const doc = `<query xmlns='jabber:iq:roster'><item jid='a@b'>${groups}</item></query>`;
    const el = parseDocument(doc, { maxStanzaBytes: 1_000_000, maxDepth: 10 });
    const started = performance.now();
    const set = parseRosterSet(el);
    assert.ok(performance.now() - started < 200, `took ${performance.now() - started} ms`);
    assert.equal(set.kind === "update" && set.groups.length, 30_000);
  });

  it("treats an empty name as no name", () => {
    assert.deepEqual(parse("<query xmlns='jabber:iq:roster'><item jid='a@b' name=''/></query>"), {
      kind: "update",
      jid: "a@b",
      name: null,
      groups: [],
    });
  });

  it("recognizes removal and ignores other subscription values (§2.1.2.5)", () => {
    assert.deepEqual(parse("<query xmlns='jabber:iq:roster'><item jid='a@b' subscription='remove'/></query>"), {
      kind: "remove",
      jid: "a@b",
    });
    assert.equal(parse("<query xmlns='jabber:iq:roster'><item jid='a@b' subscription='both'/></query>").kind, "update");
  });

  it("applies the error cases of §2.3.3", () => {
    rejects("<query xmlns='jabber:iq:roster'/>", "bad-request");
    rejects("<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'/></query>", "bad-request");
    rejects("<query xmlns='jabber:iq:roster'><item/></query>", "bad-request");
    rejects("<query xmlns='jabber:iq:roster'><item jid='a@b@c'/></query>", "jid-malformed");
    rejects("<query xmlns='jabber:iq:roster'><item jid='a@b/r'/></query>", "bad-request");
    rejects(
      "<query xmlns='jabber:iq:roster'><item jid='a@b'><group>g</group><group>g</group></item></query>",
      "bad-request",
    );
    rejects("<query xmlns='jabber:iq:roster'><item jid='a@b'><group/></item></query>", "not-acceptable");
    rejects(`<query xmlns='jabber:iq:roster'><item jid='a@b' name='${"n".repeat(1024)}'/></query>`, "not-acceptable");
    rejects(
      `<query xmlns='jabber:iq:roster'><item jid='a@b'><group>${"g".repeat(1024)}</group></item></query>`,
      "not-acceptable",
    );
  });
});

describe("itemElement", () => {
  it("shows ask and approved but never the pending-in state", () => {
    const el = itemElement({
      jid: "a@b",
      name: "A",
      subscription: "none",
      askOut: true,
      askIn: true,
      approved: true,
      groups: ["g"],
      pendingInStanza: "<presence/>",
    });
    assert.equal(
      el.toString(),
      '<item jid="a@b" name="A" subscription="none" ask="subscribe" approved="true"><group>g</group></item>',
    );
  });
});
