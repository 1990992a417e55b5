import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { C2sSession } from "../../src/core/session.ts";
import { parsePriority } from "../../src/modules/im/presence-util.ts";
import { bareRecipients } from "../../src/modules/message.ts";
import { worthStoring } from "../../src/modules/offline.ts";
import { xml } from "../../src/xml/element.ts";

/** Just the fields delivery looks at. */
function session(resource: string, priority: number, available = true): C2sSession {
  return { resource, priority, presence: available ? xml("presence") : null } as unknown as C2sSession;
}

const names = (list: C2sSession[]) => list.map((s) => s.resource);

describe("bareRecipients (RFC 6121 §8.5.2.1.1, Hearth policy)", () => {
  const all = [session("a", 5), session("b", 1), session("c", 5), session("d", -1), session("e", 9, false)];

  it("gives chat and normal messages to every resource of the highest non-negative priority", () => {
    assert.deepEqual(names(bareRecipients(all, "chat")), ["a", "c"]);
    assert.deepEqual(names(bareRecipients(all, "normal")), ["a", "c"]);
  });

  it("gives headlines to every non-negative available resource", () => {
    assert.deepEqual(names(bareRecipients(all, "headline")), ["a", "b", "c"]);
  });

  it("never picks unavailable or negative-priority resources", () => {
    assert.deepEqual(names(bareRecipients([session("d", -1), session("e", 9, false)], "chat")), []);
    assert.deepEqual(names(bareRecipients([session("z", 0)], "chat")), ["z"]);
  });
});

describe("parsePriority (RFC 6121 §4.7.2.3)", () => {
  const p = (text?: string) =>
    parsePriority(xml("presence", null, text === undefined ? undefined : xml("priority", null, text)));

  it("reads integers from -128 to 127 and defaults to 0", () => {
    assert.equal(p(), 0);
    assert.equal(p("5"), 5);
    assert.equal(p(" -128 "), -128);
    assert.equal(p("+127"), 127);
  });

  it("rejects anything else", () => {
    for (const bad of ["128", "-129", "1.5", "", "five", "0x10", "1e2"]) assert.equal(p(bad), null, bad);
  });
});

describe("worthStoring (XEP-0160 with XEP-0085 and XEP-0334)", () => {
  const msg = (...children: ReturnType<typeof xml>[]) => xml("message", { type: "chat" }, ...children);
  const state = xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" });

  it("keeps messages with a body or any other payload", () => {
    assert.equal(worthStoring(msg(xml("body", null, "hi"))), true);
    assert.equal(worthStoring(msg(xml("subject", null, "s"))), true);
    assert.equal(worthStoring(msg(xml("received", { xmlns: "urn:xmpp:receipts", id: "x" }))), true);
    assert.equal(worthStoring(msg(state, xml("body", null, "hi"))), true);
  });

  it("skips bare chat states and empty messages", () => {
    assert.equal(worthStoring(msg(state)), false);
    assert.equal(worthStoring(msg(state, xml("thread", null, "t1"))), false);
    assert.equal(worthStoring(msg()), false);
  });

  it("follows store / no-store hints", () => {
    assert.equal(worthStoring(msg(xml("body", null, "hi"), xml("no-store", { xmlns: "urn:xmpp:hints" }))), false);
    assert.equal(worthStoring(msg(state, xml("store", { xmlns: "urn:xmpp:hints" }))), true);
  });
});
