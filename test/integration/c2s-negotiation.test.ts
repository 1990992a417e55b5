import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, connectClient, RawConnection } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

/** Opens a connection, negotiates STARTTLS and returns it with the post-TLS features. */
async function tlsConnection(ts: TestServer) {
  const conn = await RawConnection.open(ts.c2sPort);
  conn.openStream("localhost");
  await conn.streamOpen();
  await conn.element("stream:features");
  conn.send(xml("starttls", { xmlns: NS.tls }));
  await conn.element("proceed", NS.tls);
  await conn.startTls("localhost");
  conn.openStream("localhost");
  await conn.streamOpen();
  const features = await conn.element("stream:features");
  return { conn, features };
}

describe("c2s stream negotiation (RFC 6120 §4-§7)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: [["alice@localhost", "wonderland"]] });
  });
  after(() => ts.stop());

  it("offers only required STARTTLS before TLS", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("localhost");
    const header = await conn.streamOpen();
    assert.equal(header.from, "localhost");
    assert.equal(header.version, "1.0");
    assert.ok(header.id && header.id.length >= 16, "stream id is long and random");
    const features = await conn.element("stream:features");
    const starttls = features.getChild("starttls", NS.tls);
    assert.ok(starttls?.getChild("required"), "STARTTLS is required");
    assert.equal(features.getChild("mechanisms", NS.sasl), undefined, "no SASL before TLS");
    conn.destroy();
  });

  it("offers SCRAM with -PLUS variants, PLAIN and channel-binding types after TLS", async () => {
    const { conn, features } = await tlsConnection(ts);
    const mechs = features
      .getChild("mechanisms", NS.sasl)
      ?.getChildren("mechanism")
      .map((m) => m.text());
    assert.deepEqual(mechs, [
      "SCRAM-SHA-512-PLUS",
      "SCRAM-SHA-256-PLUS",
      "SCRAM-SHA-1-PLUS",
      "SCRAM-SHA-512",
      "SCRAM-SHA-256",
      "SCRAM-SHA-1",
      "PLAIN",
    ]);
    const cb = features
      .getChild("sasl-channel-binding", NS.saslChannelBinding)
      ?.getChildren("channel-binding")
      .map((c) => c.attrs.type);
    assert.deepEqual(cb, ["tls-exporter", "tls-server-end-point"]);
    conn.destroy();
  });

  for (const mechanism of ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS"]) {
    it(`logs in with ${mechanism} and binds a server-generated resource`, async () => {
      const c = await connectClient(ts, "alice@localhost", "wonderland", { mechanism });
      assert.match(c.jid, /^alice@localhost\/.+/);
      await c.close();
    });
  }

  it("logs in over direct TLS (XEP-0368)", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland", { directTls: true, resource: "direct" });
    assert.equal(c.jid, "alice@localhost/direct");
    await c.close();
  });

  it("answers a wrong password with not-authorized and closes after repeated failures", async () => {
    const { conn } = await tlsConnection(ts);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(authenticate(conn, "alice", "wrong", "SCRAM-SHA-256"), /not-authorized/);
    }
    await assert.rejects(authenticate(conn, "alice", "wrong", "PLAIN"), /not-authorized/);
    assert.equal(await conn.streamError(), "policy-violation");
    await conn.disconnected;
  });

  it("does not reveal whether an account exists", async () => {
    const { conn } = await tlsConnection(ts);
    await assert.rejects(authenticate(conn, "nobody", "x", "SCRAM-SHA-256"), /not-authorized/);
    conn.destroy();
  });

  it("refuses stanzas before authentication with not-authorized", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("localhost");
    await conn.element("stream:features");
    conn.write("<message to='alice@localhost'><body>hi</body></message>");
    assert.equal(await conn.streamError(), "not-authorized");
    await conn.disconnected;
  });

  it("refuses SASL before STARTTLS when TLS is required", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("localhost");
    await conn.element("stream:features");
    await assert.rejects(authenticate(conn, "alice", "wonderland", "PLAIN"), /encryption-required/);
    conn.destroy();
  });

  it("answers an unknown host with host-unknown", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("elsewhere.example");
    await conn.streamOpen();
    assert.equal(await conn.streamError(), "host-unknown");
    await conn.disconnected;
  });

  it("answers a wrong default namespace with invalid-namespace", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.openStream("localhost", {}, "jabber:server");
    assert.equal(await conn.streamError(), "invalid-namespace");
  });

  it("requires version 1.0", async () => {
    const conn = await RawConnection.open(ts.c2sPort);
    conn.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.stream}' to='localhost'>`);
    assert.equal(await conn.streamError(), "unsupported-version");
  });

  it("binds the requested resource and replaces a conflicting session", async () => {
    const first = await connectClient(ts, "alice@localhost", "wonderland", { resource: "phone" });
    const second = await connectClient(ts, "alice@localhost", "wonderland", { resource: "phone" });
    assert.equal(second.jid, "alice@localhost/phone");
    assert.equal(await first.conn.streamError(), "conflict");
    await first.conn.disconnected;
    await second.close();
  });

  it("closes a stream whose client spoofs 'from' with invalid-from", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    c.send("<message from='bob@localhost/x' to='alice@localhost'><body>spoof</body></message>");
    assert.equal(await c.conn.streamError(), "invalid-from");
  });

  it("accepts 'from' equal to the bare or full JID and answers pings", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland", { resource: "r" });
    const r1 = await c.iq(
      xml("iq", { type: "get", to: "localhost", from: "alice@localhost" }, xml("ping", { xmlns: NS.ping })),
    );
    assert.equal(r1.attrs.type, "result");
    assert.equal(r1.attrs.from, "localhost");
    assert.equal(r1.attrs.to, "alice@localhost/r");
    await c.close();
  });

  it("answers an iq without id or with a bad type with bad-request", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    c.send("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const err = await c.expectStanza("iq", "error");
    assert.ok(err.getChild("error")?.getChild("bad-request", NS.stanzaErrors));
    await c.close();
  });

  it("answers unknown iq payloads with service-unavailable", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    const r = await c.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: "urn:example:nothing" })));
    assert.equal(r.attrs.type, "error");
    assert.ok(r.getChild("error")?.getChild("service-unavailable", NS.stanzaErrors));
    await c.close();
  });

  it("answers the legacy session request", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    const r = await c.iq(xml("iq", { type: "set" }, xml("session", { xmlns: NS.session })));
    assert.equal(r.attrs.type, "result");
    await c.close();
  });

  it("ignores whitespace keepalives", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    c.send("\n \n");
    const r = await c.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
    assert.equal(r.attrs.type, "result");
    await c.close();
  });

  it("closes cleanly when the client closes the stream", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    c.send("</stream:stream>");
    await c.conn.next((r) => r.kind === "close");
    await c.conn.disconnected;
  });
});

describe("c2s limits and hostile input", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [["alice@localhost", "wonderland"]],
      config: { c2s: { stanza_size_limit: 10000, max_depth: 10 } },
    });
  });
  after(() => ts.stop());

  const cases: [string, string, string][] = [
    ["malformed XML", "<message><body>x</wrong></message>", "not-well-formed"],
    ["a DTD (entity bomb)", "<!DOCTYPE lolz [<!ENTITY lol 'lol'>]><message>&lol;</message>", "restricted-xml"],
    ["a comment", "<!-- hi --><message/>", "restricted-xml"],
    ["a processing instruction", "<?evil x?><message/>", "restricted-xml"],
    ["an undefined entity", "<message><body>&nbsp;</body></message>", "restricted-xml"],
    ["an oversized stanza", `<message><body>${"x".repeat(20000)}</body></message>`, "policy-violation"],
    ["deep nesting", `<message>${"<a>".repeat(20)}${"</a>".repeat(20)}</message>`, "policy-violation"],
  ];
  for (const [what, input, condition] of cases) {
    it(`closes the stream on ${what} with ${condition}, and keeps serving others`, async () => {
      const bystander = await connectClient(ts, "alice@localhost", "wonderland");
      const c = await connectClient(ts, "alice@localhost", "wonderland");
      c.send(input);
      assert.equal(await c.conn.streamError(), condition);
      await c.conn.disconnected;
      const r = await bystander.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
      assert.equal(r.attrs.type, "result");
      await bystander.close();
    });
  }

  it("closes on unsupported top-level elements with unsupported-stanza-type", async () => {
    const c = await connectClient(ts, "alice@localhost", "wonderland");
    c.send("<foo xmlns='urn:example:unknown'/>");
    assert.equal(await c.conn.streamError(), "unsupported-stanza-type");
  });
});

describe("c2s timers, connection limits and shutdown", () => {
  it("times out unauthenticated connections", async () => {
    const ts = await startTestServer({ config: { c2s: { auth_timeout: 1 } } });
    try {
      const conn = await RawConnection.open(ts.c2sPort);
      conn.openStream("localhost");
      assert.equal(await conn.streamError(3000), "connection-timeout");
    } finally {
      await ts.stop();
    }
  });

  it("pings idle clients (XEP-0199) and closes those that do not answer", async () => {
    const ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: { c2s: { ping_interval: 1, ping_timeout: 1 } },
    });
    try {
      const c = await connectClient(ts, "alice@localhost", "pw");
      const ping = await c.expect((el) => el.name === "iq" && !!el.getChild("ping", NS.ping), 3000);
      assert.equal(ping.attrs.type, "get");
      assert.equal(ping.attrs.from, "localhost");
      // Do not answer: the server gives up after ping_timeout.
      assert.equal(await c.conn.streamError(4000), "connection-timeout");
    } finally {
      await ts.stop();
    }
  });

  it("refuses connections over the limit with resource-constraint", async () => {
    const ts = await startTestServer({ config: { c2s: { max_connections: 1 } } });
    try {
      const first = await RawConnection.open(ts.c2sPort);
      const second = await RawConnection.open(ts.c2sPort);
      assert.equal(await second.streamError(), "resource-constraint");
      first.destroy();
    } finally {
      await ts.stop();
    }
  });

  it("sends system-shutdown to connected clients when stopping", async () => {
    const ts = await startTestServer({ users: [["alice@localhost", "pw"]] });
    const c = await connectClient(ts, "alice@localhost", "pw");
    await ts.stop();
    assert.equal(await c.conn.streamError(), "system-shutdown");
  });

  it("allows unencrypted c2s only when configured, without PLAIN", async () => {
    const ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: { c2s: { require_encryption: false } },
    });
    try {
      const conn = await RawConnection.open(ts.c2sPort);
      conn.openStream("localhost");
      const features = await conn.element("stream:features");
      assert.equal(features.getChild("starttls", NS.tls)?.getChild("required"), undefined);
      const mechs = features
        .getChild("mechanisms", NS.sasl)
        ?.getChildren("mechanism")
        .map((m) => m.text());
      assert.deepEqual(mechs, ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"]);
      await assert.rejects(authenticate(conn, "alice", "pw", "PLAIN"), /mechanism-too-weak/);
      await authenticate(conn, "alice", "pw", "SCRAM-SHA-256");
      conn.destroy();
    } finally {
      await ts.stop();
    }
  });
});
