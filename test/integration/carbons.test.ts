import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition, message, withBody } from "./im-fixtures.ts";

const CARBONS = "urn:xmpp:carbons:2";
const FORWARD = "urn:xmpp:forward:0";

async function setCarbons(c: TestClient, on: boolean, to?: string): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set", to }, xml(on ? "enable" : "disable", { xmlns: CARBONS })));
}

/** Matches a carbon of kind `sent`/`received` whose forwarded message has this body; returns the inner message. */
function carbonOf(kind: "sent" | "received", body: string): (el: XmlElement) => boolean {
  return (el) => el.name === "message" && inner(el, kind)?.getChildText("body") === body;
}

function inner(el: XmlElement, kind: "sent" | "received"): XmlElement | undefined {
  return el.getChild(kind, CARBONS)?.getChild("forwarded", FORWARD)?.getChild("message");
}

const anyMessage = (el: XmlElement) => el.name === "message";

describe("message carbons (XEP-0280)", () => {
  let ts: TestServer;
  let phone: TestClient;
  let desk: TestClient;
  let tab: TestClient;
  let bob: TestClient;
  before(async () => {
    ts = await startTestServer({ users: ["alice", "bob", "carol"].map((u) => [`${u}@localhost`, "pw"]) });
    phone = await connectClient(ts, "alice@localhost", "pw", { resource: "phone", presence: true });
    desk = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    // Not carbons-enabled: never sees other devices' chats.
    tab = await connectClient(ts, "alice@localhost", "pw", { resource: "tab", presence: true });
    bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b", presence: true });
    for (const c of [phone, desk]) assert.equal((await setCarbons(c, true)).attrs.type, "result");
  });
  after(async () => {
    await Promise.all([phone, desk, tab, bob].map((c) => c.close()));
    await ts.stop();
  });

  it("is advertised on the server and enabled per device", async () => {
    const info = await bob.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    const features = info
      .getChild("query")
      ?.getChildren("feature")
      .map((f) => f.attrs.var);
    assert.ok(features?.includes(CARBONS));
    // Addressed to the server works too; someone else's account does not.
    assert.equal((await setCarbons(bob, true, "localhost")).attrs.type, "result");
    assert.equal((await setCarbons(bob, false, "localhost")).attrs.type, "result");
    const foreign = await setCarbons(bob, true, "alice@localhost");
    assert.equal(foreign.attrs.type, "error");
    assert.equal(errorCondition(foreign), "forbidden");
    const bad = await bob.iq(xml("iq", { type: "set" }, xml("toggle", { xmlns: CARBONS })));
    assert.equal(errorCondition(bad), "bad-request");
  });

  it("copies a chat received by one device to the other enabled devices", async () => {
    bob.send(message(phone.jid, "hi phone", "chat", "r1"));
    const direct = await phone.expect(withBody("hi phone"));
    assert.equal(direct.getChild("received", CARBONS), undefined);
    const copy = await desk.expect(carbonOf("received", "hi phone"));
    assert.equal(copy.attrs.from, "alice@localhost");
    assert.equal(copy.attrs.to, desk.jid);
    assert.equal(copy.attrs.type, "chat");
    const m = inner(copy, "received") as XmlElement;
    assert.equal(m.attrs.xmlns, "jabber:client");
    assert.equal(m.attrs.from, bob.jid);
    assert.equal(m.attrs.to, phone.jid);
    assert.equal(m.attrs.id, "r1");
    await tab.nothing(200, anyMessage);
    await phone.nothing(0, anyMessage);
  });

  it("copies a chat sent by one device to the other enabled devices", async () => {
    phone.send(message(bob.bare, "hello bob", "chat", "s1"));
    await bob.expect(withBody("hello bob"));
    const copy = await desk.expect(carbonOf("sent", "hello bob"));
    assert.equal(copy.attrs.from, "alice@localhost");
    const m = inner(copy, "sent") as XmlElement;
    assert.equal(m.attrs.from, phone.jid);
    assert.equal(m.attrs.to, "bob@localhost");
    assert.equal(m.attrs.id, "s1");
    await phone.nothing(200, anyMessage);
    await tab.nothing(0, anyMessage);
  });

  it("gives a bare-JID message to the devices the delivery rules skip as a carbon", async () => {
    // Both enabled devices at priority 0 get it directly: no carbons.
    bob.send(message("alice@localhost", "to everyone"));
    await phone.expect(withBody("to everyone"));
    await desk.expect(withBody("to everyone"));
    await tab.expect(withBody("to everyone"));
    await desk.nothing(200, (el) => el.getChild("received", CARBONS) !== undefined);

    // The desk drops to a lower priority: the bare JID goes to the others, the desk gets a carbon.
    desk.send(xml("presence", null, xml("priority", null, "-1")));
    await desk.expect((el) => el.name === "presence" && el.attrs.from === desk.jid);
    bob.send(message("alice@localhost", "lower priority"));
    await phone.expect(withBody("lower priority"));
    await desk.expect(carbonOf("received", "lower priority"));
    desk.send(xml("presence"));
    await desk.expect((el) => el.name === "presence" && el.attrs.from === desk.jid && !el.getChild("priority"));
  });

  it("respects <private/> and <no-copy/>", async () => {
    bob.send(
      xml("message", { to: phone.jid, type: "chat" }, xml("body", null, "secret"), xml("private", { xmlns: CARBONS })),
    );
    await phone.expect(withBody("secret"));
    phone.send(
      xml(
        "message",
        { to: bob.bare, type: "chat" },
        xml("body", null, "quiet"),
        xml("no-copy", { xmlns: "urn:xmpp:hints" }),
      ),
    );
    await bob.expect(withBody("quiet"));
    await desk.nothing(300, anyMessage);
  });

  it("follows the eligibility rules of §6", async () => {
    const send = (attrs: Record<string, string>, ...children: XmlElement[]) =>
      bob.send(xml("message", { to: phone.jid, ...attrs }, ...children));
    // Not copied: headline, error, normal without body or IM payload, MUC private messages.
    send({ type: "headline" }, xml("body", null, "news"));
    send({ type: "normal" }, xml("subject", null, "no body"));
    send({ type: "chat" }, xml("body", null, "pm"), xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }));
    send({ type: "error" }, xml("error", { type: "cancel" }, xml("gone", { xmlns: NS.stanzaErrors })));
    await phone.expect(withBody("pm"));
    // Copied: normal with a body, a receipt, a chat state.
    send({}, xml("body", null, "normal with body"));
    send({ type: "normal", id: "rcpt" }, xml("received", { xmlns: "urn:xmpp:receipts", id: "r1" }));
    send({ type: "chat", id: "cs" }, xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" }));
    await desk.expect(carbonOf("received", "normal with body"));
    await desk.expect((el) => inner(el, "received")?.attrs.id === "rcpt");
    await desk.expect((el) => inner(el, "received")?.attrs.id === "cs");
    await desk.nothing(300, anyMessage);
  });

  it("does not copy a message between two devices of the account back to its sender", async () => {
    // Forget what earlier tests delivered directly.
    for (const c of [phone, desk, tab]) c.conn.received.length = 0;
    phone.send(message(desk.jid, "note to self"));
    await desk.expect(withBody("note to self"));
    await phone.nothing(300, anyMessage);
    await tab.nothing(0, anyMessage);
  });

  it("stops copying to a device that disables carbons", async () => {
    assert.equal((await setCarbons(desk, false)).attrs.type, "result");
    bob.send(message(phone.jid, "not for the desk"));
    await phone.expect(withBody("not for the desk"));
    await desk.nothing(300, anyMessage);
    assert.equal((await setCarbons(desk, true)).attrs.type, "result");
  });
});
