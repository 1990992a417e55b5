import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, RawConnection, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, message, presence, withBody } from "./im-fixtures.ts";
import { authenticated } from "./mobile-fixtures.ts";

const CSI = "urn:xmpp:csi:0";
const CHATSTATES = "http://jabber.org/protocol/chatstates";

const showOf = (el: XmlElement) => el.getChildText("show") ?? "";
const isStanza = (el: XmlElement) => ["message", "presence", "iq"].includes(el.name);

/** Everything `c` received within `ms`, stanzas only, in order. */
async function collect(c: TestClient, ms = 300): Promise<XmlElement[]> {
  await new Promise((r) => setTimeout(r, ms));
  const out: XmlElement[] = [];
  for (let i = 0; i < c.conn.received.length; ) {
    const r = c.conn.received[i];
    if (r?.kind === "element" && isStanza(r.el)) {
      out.push(r.el);
      c.conn.received.splice(i, 1);
    } else i++;
  }
  return out;
}

describe("client state indication (XEP-0352)", () => {
  let ts: TestServer;
  let alice: TestClient;
  let bob: TestClient;
  let carol: TestClient;
  before(async () => {
    ts = await startTestServer({
      users: ["alice", "bob", "carol", "dave"].map((u) => [`${u}@localhost`, "pw"]),
      config: { c2s: { csi_max_buffer: 3 } },
    });
    alice = await connectClient(ts, "alice@localhost", "pw", { resource: "phone", presence: true, roster: true });
    bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b", presence: true, roster: true });
    carol = await connectClient(ts, "carol@localhost", "pw", { resource: "c", presence: true, roster: true });
    await befriend(alice, bob);
    await befriend(alice, carol);
    await collect(alice);
  });
  after(async () => {
    await Promise.all([alice, bob, carol].map((c) => c.close()));
    await ts.stop();
  });

  it("is offered as a stream feature after authentication", async () => {
    const c = await RawConnection.open(ts.c2sPort);
    c.openStream("localhost");
    await c.streamOpen();
    const pre = await c.element("stream:features");
    assert.equal(pre.getChild("csi", CSI), undefined, "not before authentication");
    c.destroy();
    const { conn, features } = await authenticated(ts, "dave");
    assert.ok(features.getChild("csi", CSI), features.toString());
    conn.destroy();
  });

  it("holds presence and chat states while inactive and flushes the latest, in order, on active", async () => {
    alice.send(xml("inactive", { xmlns: CSI }));
    bob.send(xml("presence", null, xml("show", null, "away")));
    carol.send(xml("presence", null, xml("show", null, "dnd")));
    bob.send(xml("presence", null, xml("show", null, "xa")));
    bob.send(xml("message", { to: alice.jid, type: "chat" }, xml("composing", { xmlns: CHATSTATES })));
    bob.send(xml("message", { to: alice.jid, type: "chat" }, xml("paused", { xmlns: CHATSTATES })));
    assert.deepEqual(await collect(alice, 400), [], "nothing while inactive");

    alice.send(xml("active", { xmlns: CSI }));
    const got = await collect(alice, 300);
    assert.deepEqual(
      got.map((el) => `${el.name} ${el.attrs.from?.split("/")[0]} ${showOf(el) || el.firstElement()?.name}`),
      ["presence carol@localhost dnd", "presence bob@localhost xa", "message bob@localhost paused"],
    );
  });

  it("lets important stanzas through at once, after what was held", async () => {
    alice.send(xml("inactive", { xmlns: CSI }));
    carol.send(xml("presence", null, xml("show", null, "chat")));
    await alice.nothing(200, isStanza);
    // A message with a body goes now, after the held presence.
    bob.send(message(alice.jid, "wake up"));
    const [first, second] = [await alice.expectStanza("presence"), await alice.expectStanza("message")];
    assert.equal(showOf(first), "chat");
    assert.equal(second.getChildText("body"), "wake up");
    // An iq and a subscription request go now too.
    bob.send(xml("iq", { type: "get", id: "q1", to: alice.jid }, xml("query", { xmlns: NS.version })));
    await alice.expect((el) => el.name === "iq" && el.attrs.id === "q1");
    const dave = await connectClient(ts, "dave@localhost", "pw", { presence: true });
    dave.send(xml("presence", { to: "alice@localhost", type: "subscribe" }));
    await alice.expect(presence("subscribe", "dave@localhost"));
    alice.send(xml("active", { xmlns: CSI }));
    await dave.close();
    await collect(alice);
  });

  it("keeps the buffer bounded", async () => {
    alice.send(xml("inactive", { xmlns: CSI }));
    bob.send(xml("presence", null, xml("show", null, "away")));
    carol.send(xml("presence", null, xml("show", null, "away")));
    bob.send(xml("message", { to: alice.jid, type: "chat" }, xml("gone", { xmlns: CHATSTATES })));
    assert.deepEqual(await collect(alice, 300), [], "three fit (csi_max_buffer = 3)");
    carol.send(xml("message", { to: alice.jid, type: "chat" }, xml("active", { xmlns: CHATSTATES })));
    const got = await collect(alice, 300);
    assert.equal(got.length, 4, "the fourth flushes everything");
    alice.send(xml("active", { xmlns: CSI }));
    await collect(alice);
  });

  it("works with stream management: held stanzas are counted when they really go out", async () => {
    const SM = "urn:xmpp:sm:3";
    alice.send(xml("enable", { xmlns: SM }));
    await alice.expect((el) => el.name === "enabled");
    alice.send(xml("inactive", { xmlns: CSI }));
    bob.send(xml("presence", null, xml("show", null, "dnd")));
    await alice.nothing(200, isStanza);
    alice.send(xml("a", { xmlns: SM, h: "1" }));
    const err = await alice.expect((el) => el.name === "stream:error", 300).catch(() => null);
    assert.ok(err, "acknowledging a held stanza is acknowledging too much");
  });
});

describe("client state indication: a message with a body is never held", () => {
  it("delivers at once to an inactive client", async () => {
    const ts = await startTestServer({ users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]) });
    const alice = await connectClient(ts, "alice@localhost", "pw", { presence: true });
    const bob = await connectClient(ts, "bob@localhost", "pw");
    alice.send(xml("inactive", { xmlns: CSI }));
    await new Promise((r) => setTimeout(r, 50));
    bob.send(message(alice.jid, "now"));
    await alice.expect(withBody("now"), 500);
    await Promise.all([alice.close(), bob.close()]);
    await ts.stop();
  });
});
