import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, RawConnection, TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, message, presence, withBody } from "./im-fixtures.ts";
import { authenticated } from "./mobile-fixtures.ts";

const SM = "urn:xmpp:sm:3";

const isSm = (name: string) => (el: XmlElement) => el.name === name && el.attrs.xmlns === SM;

/** Sends `<enable/>` and returns the `<enabled/>` or `<failed/>` answer. */
async function enable(c: TestClient, attrs: Record<string, string> = { resume: "true" }): Promise<XmlElement> {
  c.send(xml("enable", { xmlns: SM, ...attrs }));
  return c.expect((el) => el.attrs.xmlns === SM && (el.name === "enabled" || el.name === "failed"));
}

/** Asks for an ack and returns the server's h. */
async function serverH(c: TestClient): Promise<number> {
  c.send(xml("r", { xmlns: SM }));
  const a = await c.expect(isSm("a"));
  return Number(a.attrs.h);
}

/** Resumes a session on a new connection; returns the client (same JID) and the server's answer. */
async function resume(
  ts: TestServer,
  user: string,
  jid: string,
  previd: string,
  h?: number,
): Promise<{ client: TestClient; answer: XmlElement }> {
  const { conn } = await authenticated(ts, user);
  conn.send(xml("resume", { xmlns: SM, previd, h: h === undefined ? undefined : String(h) }));
  const r = await conn.next(
    (x) => x.kind === "element" && x.el.attrs.xmlns === SM && (x.el.name === "resumed" || x.el.name === "failed"),
  );
  return { client: new TestClient(conn, jid), answer: (r as { el: XmlElement }).el };
}

/** Kills the TCP connection without closing the stream, like a phone losing its network. */
async function dropConnection(c: TestClient): Promise<void> {
  c.conn.destroy();
  await c.conn.disconnected;
  // Let the server see the socket close.
  await new Promise((r) => setTimeout(r, 100));
}

function delayStamp(el: XmlElement): string | undefined {
  return el.getChild("delay", NS.delay)?.attrs.stamp;
}

describe("stream management (XEP-0198)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      // One account per scenario: a session that ends with unacked stanzas leaves them in offline storage.
      users: ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "judy"].map((u) => [
        `${u}@localhost`,
        "pw",
      ]),
      config: { c2s: { sm_resume_timeout: 1 } },
    });
  });
  after(() => ts.stop());

  it("offers the feature after authentication only", async () => {
    const pre = await RawConnection.open(ts.c2sPort);
    pre.openStream("localhost");
    await pre.streamOpen();
    const features = await pre.element("stream:features");
    assert.equal(features.getChild("sm", SM), undefined);
    pre.destroy();
    const { conn, features: post } = await authenticated(ts, "alice");
    assert.ok(post.getChild("sm", SM), post.toString());
    conn.destroy();
  });

  it("refuses to enable before binding and twice; enables with an unguessable id and the timeout", async () => {
    const { conn } = await authenticated(ts, "alice");
    conn.send(xml("enable", { xmlns: SM }));
    const early = await conn.element("failed", SM);
    assert.ok(early.getChild("unexpected-request", NS.stanzaErrors), early.toString());
    conn.destroy();

    const alice = await connectClient(ts, "alice@localhost", "pw");
    const enabled = await enable(alice);
    assert.equal(enabled.name, "enabled");
    assert.equal(enabled.attrs.resume, "true");
    assert.equal(enabled.attrs.max, "1");
    assert.equal(enabled.attrs.location, undefined);
    assert.ok((enabled.attrs.id ?? "").length >= 20, `id ${enabled.attrs.id}`);
    const again = await enable(alice);
    assert.equal(again.name, "failed");
    assert.ok(again.getChild("unexpected-request", NS.stanzaErrors));

    // Without resume: acks only, no id.
    const bob = await connectClient(ts, "bob@localhost", "pw");
    const plain = await enable(bob, {});
    assert.equal(plain.name, "enabled");
    assert.equal(plain.attrs.id, undefined);
    assert.equal(plain.attrs.resume, undefined);
    await Promise.all([alice.close(), bob.close()]);
  });

  it("counts stanzas both ways across many stanzas", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "count" });
    const bob = await connectClient(ts, "bob@localhost", "pw");
    await enable(alice, {});
    assert.equal(await serverH(alice), 0);
    // Inbound: every stanza counts, including ones answered with an error.
    for (let i = 0; i < 120; i++)
      alice.send(xml("iq", { type: "get", id: `p${i}`, to: "localhost" }, xml("ping", { xmlns: NS.ping })));
    alice.send(xml("iq", { type: "bogus" }));
    assert.equal(await serverH(alice), 121);

    // Outbound: 300 messages, then acks in steps; the server asks for acks itself.
    for (let i = 1; i <= 300; i++) bob.send(message(alice.jid, `m${i}`));
    await alice.expect(withBody("m300"));
    await alice.expect(isSm("r"));
    // 121 iq answers (120 results, 1 error) + 300 messages were sent after enabling.
    alice.send(xml("a", { xmlns: SM, h: "200" }));
    alice.send(xml("a", { xmlns: SM, h: "421" }));
    await alice.nothing(300, (el) => el.name === "stream:error");
    // Acknowledging one more than was sent is a stream error (§4).
    alice.send(xml("a", { xmlns: SM, h: "422" }));
    const err = await alice.expect((el) => el.name === "stream:error");
    assert.ok(err.getChild("undefined-condition", NS.streamErrors), err.toString());
    const detail = err.getChild("handled-count-too-high", SM);
    assert.equal(detail?.attrs.h, "422");
    assert.equal(detail?.attrs["send-count"], "421");
    await alice.conn.disconnected;
    await bob.close();
  });

  it("resumes a session killed mid-stream: redelivers unacked stanzas, stamped, and keeps presence", async () => {
    const gina = await connectClient(ts, "gina@localhost", "pw", { resource: "phone", presence: true, roster: true });
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "desk", presence: true, roster: true });
    await befriend(gina, bob);
    const enabled = await enable(gina);
    const previd = enabled.attrs.id as string;
    gina.send(message(bob.jid, "before"));
    await bob.expect(withBody("before"));

    for (const b of ["r1", "r2", "r3"]) bob.send(message(gina.jid, b));
    await gina.expect(withBody("r3"));
    const sentAt = Date.now();
    await dropConnection(gina);
    // While hibernating gina stays available to her contacts and messages queue up.
    bob.send(message("gina@localhost", "while away (bare)"));
    bob.send(message(gina.jid, "while away (full)"));
    await bob.nothing(
      300,
      (el) => el.name === "message" || (el.name === "presence" && el.attrs.type === "unavailable"),
    );

    // The client handled r1 only; it asks to resume with h=1.
    const { client, answer } = await resume(ts, "gina", gina.jid, previd, 1);
    assert.equal(answer.name, "resumed", answer.toString());
    assert.equal(answer.attrs.previd, previd);
    // Gina sent: 1 presence, roster get, 2 subscribe + 2 subscribed... counted from <enable/>: only "before".
    assert.equal(answer.attrs.h, "1");
    const again: XmlElement[] = [];
    for (const b of ["r2", "r3", "while away (bare)", "while away (full)"])
      again.push(await client.expect(withBody(b)));
    for (const m of again) {
      const stamp = Date.parse(delayStamp(m) ?? "");
      assert.ok(stamp >= sentAt - 2000 && stamp <= Date.now(), `stamp ${delayStamp(m)}`);
      assert.equal(m.getChild("delay", NS.delay)?.attrs.from, "localhost");
    }
    // Same session: same JID, still present; new stanzas flow on the new connection.
    bob.send(message(gina.jid, "after"));
    await client.expect(withBody("after"));
    client.send(message(bob.jid, "back"));
    await bob.expect(withBody("back"));
    assert.equal(await serverH(client), 2);
    await bob.nothing(200, presence("unavailable", "gina@localhost"));
    await Promise.all([client.close(), bob.close()]);
  });

  it("resumption takes over a connection that still looks open and closes it with conflict", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { resource: "tab", presence: true });
    const previd = (await enable(carol)).attrs.id as string;
    const { client, answer } = await resume(ts, "carol", carol.jid, previd, 0);
    assert.equal(answer.name, "resumed");
    const err = await carol.expect((el) => el.name === "stream:error");
    assert.ok(err.getChild("conflict", NS.streamErrors));
    const bob = await connectClient(ts, "bob@localhost", "pw");
    bob.send(message(carol.jid, "to the new one"));
    await client.expect(withBody("to the new one"));
    await carol.nothing(200, (el) => el.name === "message");
    await Promise.all([client.close(), bob.close()]);
  });

  it("refuses unknown, foreign and bound resumptions", async () => {
    const { client: unknown, answer } = await resume(ts, "dave", "dave@localhost/x", "no-such-id");
    assert.equal(answer.name, "failed");
    assert.ok(answer.getChild("item-not-found", NS.stanzaErrors));
    // §5: the client may bind instead.
    unknown.send(xml("iq", { type: "set", id: "b" }, xml("bind", { xmlns: NS.bind })));
    const bound = await unknown.expect((el) => el.name === "iq" && el.attrs.id === "b");
    assert.equal(bound.attrs.type, "result");

    const erin = await connectClient(ts, "erin@localhost", "pw", { presence: true });
    const previd = (await enable(erin)).attrs.id as string;
    const { client: thief, answer: refused } = await resume(ts, "dave", "dave@localhost/y", previd);
    assert.equal(refused.name, "failed");
    assert.ok(refused.getChild("item-not-found", NS.stanzaErrors));
    // A bound session cannot resume another one.
    erin.send(xml("resume", { xmlns: SM, previd, h: "0" }));
    const f = await erin.expect(isSm("failed"));
    assert.ok(f.getChild("unexpected-request", NS.stanzaErrors));
    // Erin is untouched.
    const bob = await connectClient(ts, "bob@localhost", "pw");
    bob.send(message(erin.jid, "still here"));
    await erin.expect(withBody("still here"));
    await Promise.all([unknown.close(), thief.close(), erin.close(), bob.close()]);
  });

  it("not resumed in time: unacked messages go to another resource, iq requests get errors", async () => {
    const phone = await connectClient(ts, "hank@localhost", "pw", { resource: "phone", presence: true });
    const desk = await connectClient(ts, "hank@localhost", "pw", { resource: "desk", presence: true });
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b" });
    const previd = (await enable(phone)).attrs.id as string;
    bob.send(message(phone.jid, "to the phone", "chat", "c1"));
    await phone.expect(withBody("to the phone"));
    await dropConnection(phone);
    bob.send(message(phone.jid, "queued", "chat", "c2"));
    bob.send(xml("iq", { type: "get", id: "v1", to: phone.jid }, xml("query", { xmlns: NS.version })));
    // Hibernating: the desk does not get the phone's messages yet.
    await desk.nothing(400, (el) => el.name === "message");

    const first = await desk.expect(withBody("to the phone"), 3000);
    const second = await desk.expect(withBody("queued"));
    assert.equal(first.attrs.id, "c1");
    assert.ok(delayStamp(first) && delayStamp(second), "rerouted messages are stamped");
    const iqErr = await bob.expect((el) => el.name === "iq" && el.attrs.id === "v1");
    assert.equal(iqErr.attrs.type, "error");
    assert.equal(errorCondition(iqErr), "service-unavailable");
    // The session is really gone now: unavailable presence and no resumption.
    await desk.expect(presence("unavailable", phone.jid));
    const { client, answer } = await resume(ts, "hank", phone.jid, previd, 0);
    assert.equal(answer.name, "failed");
    assert.ok(answer.getChild("item-not-found", NS.stanzaErrors));
    assert.equal(answer.attrs.h, "0", "the client learns how many of its stanzas arrived");
    await Promise.all([client.close(), desk.close(), bob.close()]);
  });

  it("not resumed in time, no other resource: unacked messages are stored offline and delivered on next login", async () => {
    const frank = await connectClient(ts, "frank@localhost", "pw", { resource: "phone", presence: true });
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b" });
    await enable(frank);
    bob.send(message(frank.jid, "one"));
    await frank.expect(withBody("one"));
    await dropConnection(frank);
    bob.send(message("frank@localhost", "two"));
    bob.send(message(frank.jid, "three"));
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(await ts.server.core.storage.offline.count("localhost", "frank"), 3);
    await bob.nothing(100, (el) => el.name === "message");

    const back = await connectClient(ts, "frank@localhost", "pw", { resource: "phone", presence: true });
    const got = [
      await back.expectStanza("message"),
      await back.expectStanza("message"),
      await back.expectStanza("message"),
    ];
    assert.deepEqual(
      got.map((m) => m.getChildText("body")),
      ["one", "two", "three"],
    );
    await Promise.all([back.close(), bob.close()]);
  });

  it("does not hand a message again to a device that already got it as a carbon", async () => {
    const phone = await connectClient(ts, "judy@localhost", "pw", { resource: "phone", presence: true });
    const desk = await connectClient(ts, "judy@localhost", "pw", { resource: "desk", presence: true });
    for (const c of [phone, desk]) {
      await c.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
    }
    const bob = await connectClient(ts, "bob@localhost", "pw");
    await enable(phone);
    bob.send(message(phone.jid, "seen twice?"));
    await phone.expect(withBody("seen twice?"));
    await desk.expect((el) => el.getChild("received", "urn:xmpp:carbons:2") !== undefined);
    await dropConnection(phone);
    await desk.expect(presence("unavailable", phone.jid), 3000);
    await desk.nothing(200, (el) => el.name === "message");
    assert.equal(await ts.server.core.storage.offline.count("localhost", "judy"), 0);
    await Promise.all([desk.close(), bob.close()]);
  });

  it("a resumption that acknowledges too much fails and ends the session without losing its messages", async () => {
    const ivy = await connectClient(ts, "ivy@localhost", "pw", { resource: "x", presence: true });
    const previd = (await enable(ivy)).attrs.id as string;
    const bob = await connectClient(ts, "bob@localhost", "pw");
    bob.send(message(ivy.jid, "keep me"));
    await ivy.expect(withBody("keep me"));
    await dropConnection(ivy);
    const { client, answer } = await resume(ts, "ivy", ivy.jid, previd, 5);
    assert.equal(answer.name, "failed");
    assert.ok(answer.getChild("undefined-condition", NS.stanzaErrors), answer.toString());
    assert.equal(answer.getChild("handled-count-too-high", SM)?.attrs["send-count"], "1");
    client.conn.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await ts.server.core.storage.offline.count("localhost", "ivy"), 1);
    await bob.close();
  });
});

describe("stream management: dead connections", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]),
      config: { c2s: { sm_resume_timeout: 5, ping_timeout: 1 } },
    });
  });
  after(() => ts.stop());

  it("a client that never answers <r/> is taken for gone: the session hibernates and can resume", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "r", presence: true });
    const previd = (await enable(alice)).attrs.id as string;
    const bob = await connectClient(ts, "bob@localhost", "pw");
    bob.send(message(alice.jid, "are you there"));
    await alice.expect(isSm("r"));
    // ping_timeout is 1 s in this suite.
    const err = await alice.expect((el) => el.name === "stream:error", 3000);
    assert.ok(err.getChild("connection-timeout", NS.streamErrors));
    const { client, answer } = await resume(ts, "alice", alice.jid, previd, 0);
    assert.equal(answer.name, "resumed");
    await client.expect(withBody("are you there"));
    await Promise.all([client.close(), bob.close()]);
  });
});
