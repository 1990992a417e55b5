import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { carbonEligible } from "../../src/modules/carbons.ts";
import { holdKey } from "../../src/modules/csi.ts";
import { isPermanentError } from "../../src/modules/push/notification.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";

const CHATSTATES = "http://jabber.org/protocol/chatstates";
const composing = () => xml("composing", { xmlns: CHATSTATES });
const body = (t = "hi") => xml("body", null, t);

function carbonOf(inner: XmlElement): XmlElement {
  inner.attrs.xmlns = "jabber:client";
  return xml(
    "message",
    { from: "a@h", to: "a@h/r" },
    xml("received", { xmlns: "urn:xmpp:carbons:2" }, xml("forwarded", { xmlns: "urn:xmpp:forward:0" }, inner)),
  );
}

describe("CSI: what waits for an inactive client (XEP-0352)", () => {
  it("holds available/unavailable presence per sender, lets the rest through", () => {
    assert.equal(holdKey(xml("presence", { from: "b@h/x" })), "p b@h/x");
    assert.equal(holdKey(xml("presence", { from: "b@h/x", type: "unavailable" })), "p b@h/x");
    for (const type of ["subscribe", "subscribed", "unsubscribe", "unsubscribed", "error", "probe"]) {
      assert.equal(holdKey(xml("presence", { from: "b@h", type })), null, type);
    }
    const selfPresence = xml(
      "presence",
      { from: "room@muc/me" },
      xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, xml("status", { code: "110" })),
    );
    assert.equal(holdKey(selfPresence), null, "a MUC self-presence completes a join");
  });

  it("holds chat-state-only messages per conversation, also inside carbons", () => {
    const cs = xml("message", { from: "b@h/x", to: "a@h/r", type: "chat" }, composing(), xml("thread", null, "t"));
    assert.equal(holdKey(cs), "m b@h/x a@h/r");
    assert.equal(holdKey(carbonOf(cs.clone())), "m b@h/x a@h/r");
    assert.equal(holdKey(xml("message", { type: "chat" }, composing(), body())), null);
    assert.equal(holdKey(carbonOf(xml("message", { type: "chat" }, body()))), null);
    assert.equal(holdKey(xml("message", {}, xml("received", { xmlns: "urn:xmpp:receipts", id: "1" }))), null);
    assert.equal(holdKey(xml("message", { type: "groupchat" }, composing())), null);
    assert.equal(holdKey(xml("message", {})), null);
    assert.equal(holdKey(xml("iq", { type: "get" })), null);
  });
});

describe("carbons: eligible messages (XEP-0280 §6)", () => {
  it("copies chats, normal messages with a body and IM payloads", () => {
    assert.equal(carbonEligible(xml("message", { type: "chat" }, composing())), true);
    assert.equal(carbonEligible(xml("message", {}, body())), true);
    assert.equal(carbonEligible(xml("message", { type: "normal" }, xml("subject", null, "s"))), false);
    assert.equal(carbonEligible(xml("message", {}, xml("markable", { xmlns: "urn:xmpp:chat-markers:0" }))), true);
  });

  it("never copies errors, groupchat, headlines, MUC PMs, private, no-copy or carbons", () => {
    for (const type of ["error", "groupchat", "headline"]) {
      assert.equal(carbonEligible(xml("message", { type }, body())), false, type);
    }
    const with_ = (el: XmlElement) => xml("message", { type: "chat" }, body(), el);
    assert.equal(carbonEligible(with_(xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }))), false);
    assert.equal(carbonEligible(with_(xml("private", { xmlns: "urn:xmpp:carbons:2" }))), false);
    assert.equal(carbonEligible(with_(xml("no-copy", { xmlns: "urn:xmpp:hints" }))), false);
    assert.equal(carbonEligible(carbonOf(xml("message", { type: "chat" }, body()))), false);
  });
});

describe("push: which app server errors end a registration", () => {
  const err = (type: string, condition: string) =>
    xml(
      "iq",
      { type: "error" },
      xml("error", { type }, xml(condition, { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })),
    );
  it("keeps passing failures, drops permanent refusals", () => {
    assert.equal(isPermanentError(err("wait", "resource-constraint")), false);
    assert.equal(isPermanentError(err("cancel", "service-unavailable")), false);
    assert.equal(isPermanentError(err("cancel", "remote-server-not-found")), false);
    assert.equal(isPermanentError(err("cancel", "item-not-found")), true);
    assert.equal(isPermanentError(err("auth", "not-authorized")), true);
    assert.equal(isPermanentError(err("modify", "bad-request")), true);
    assert.equal(isPermanentError(xml("iq", { type: "error" })), false);
  });
});
