import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Element as XmppElement, client as xmppClient, xml as xmppXml } from "@xmpp/client";
import { WebSocket } from "ws";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { httpPort, saslExchange, WsConnection, wsLogin } from "../helpers/web-client.ts";

const mechanismsOf = (features: { getChild: (n: string, ns?: string) => unknown }) =>
  (features.getChild("mechanisms", NS.sasl) as { getChildren(n: string): { text(): string }[] } | undefined)
    ?.getChildren("mechanism")
    .map((m) => m.text()) ?? [];

describe("XMPP over WebSocket (RFC 7395)", () => {
  let ts: TestServer;
  let ws: string;
  let wss: string;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "wonderland"],
        ["bob@localhost", "builder"],
      ],
      config: { http: { port: 0, tls_port: 0 }, c2s: { stanza_size_limit: 20000 } },
    });
    ws = `ws://127.0.0.1:${httpPort(ts)}/xmpp-websocket`;
    wss = `wss://127.0.0.1:${httpPort(ts, true)}/xmpp-websocket`;
  });
  after(() => ts.stop());

  it("refuses a handshake without the 'xmpp' subprotocol (§3.1)", async () => {
    await assert.rejects(WsConnection.open(ws, { protocols: [] }), /HTTP 400/);
    await assert.rejects(WsConnection.open(ws, { protocols: ["chat"] }), /HTTP 400/);
    const conn = await WsConnection.open(ws);
    assert.equal(conn.ws.protocol, "xmpp");
    await conn.close();
  });

  it("answers <open/> with <open/> and features; every frame is one element (§3.3, §3.4)", async () => {
    const conn = await WsConnection.open(ws);
    conn.open("localhost");
    const open = await conn.element("open", NS.framing);
    assert.equal(open.attrs.from, "localhost");
    assert.equal(open.attrs.version, "1.0");
    assert.ok((open.attrs.id ?? "").length >= 16);
    const features = await conn.element("stream:features");
    assert.equal(features.attrs["xmlns:stream"], NS.stream, "the stream prefix is declared in the frame");
    // Plain ws from loopback without proxy headers counts as secure (docs/web.md): SASL is offered.
    assert.deepEqual(mechanismsOf(features), ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]);
    await conn.close();
  });

  it("logs in with SCRAM-SHA-256 over ws and binds the requested resource", async () => {
    const alice = await wsLogin(ws, "alice@localhost", "wonderland", { mechanism: "SCRAM-SHA-256", resource: "web" });
    assert.equal(alice.jid, "alice@localhost/web");
    await alice.close();
  });

  it("logs in over wss with channel binding (SCRAM-SHA-256-PLUS, tls-exporter)", async () => {
    const conn = await WsConnection.open(wss);
    conn.open("localhost");
    await conn.element("open", NS.framing);
    const features = await conn.element("stream:features");
    assert.ok(mechanismsOf(features).includes("SCRAM-SHA-256-PLUS"));
    await saslExchange(conn, "alice", "wonderland", "SCRAM-SHA-256-PLUS", () => conn.tls);
    await conn.close();
  });

  it("exchanges messages between a WebSocket client and a TCP client", async () => {
    const alice = await wsLogin(wss, "alice@localhost", "wonderland", { resource: "browser" });
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "desk" });
    alice.send(xml("message", { to: "bob@localhost/desk", type: "chat", id: "m1" }, xml("body", null, "hi from ws")));
    const got = await bob.expectStanza("message", "chat");
    assert.equal(got.attrs.from, "alice@localhost/browser");
    assert.equal(got.getChildText("body"), "hi from ws");
    assert.equal(got.attrs.xmlns, undefined, "TCP sees the stanza in the stream's default namespace");

    bob.send(
      xml("message", { to: "alice@localhost/browser", type: "chat", id: "m2" }, xml("body", null, "hi from tcp")),
    );
    const back = await alice.expect((el) => el.name === "message");
    assert.equal(back.attrs.xmlns, NS.client, "outgoing frames carry xmlns='jabber:client' (§3.3.3)");
    assert.equal(back.attrs.from, "bob@localhost/desk");
    assert.equal(back.getChildText("body"), "hi from tcp");

    const pong = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
    assert.equal(pong.attrs.type, "result");
    await alice.close();
    await bob.close();
  });

  it("answers the client's <close/> with <close/> and ends the connection (§3.6)", async () => {
    const conn = await wsLogin(ws, "alice@localhost", "wonderland");
    conn.send(xml("close", { xmlns: NS.framing }));
    await conn.element("close", NS.framing);
    const { code } = await conn.closed;
    assert.equal(code, 1000, "the server closes the WebSocket once both sides closed the stream");
    // The session is gone from the registry.
    for (let i = 0; i < 20 && ts.server.core.sessions.count > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(ts.server.core.sessions.count, 0);
  });

  it("sends a stream error then <close/> for a malformed frame", async () => {
    const conn = await WsConnection.open(ws);
    conn.open("localhost");
    await conn.element("stream:features");
    conn.send("<message><body>unclosed</message>");
    const err = await conn.element("stream:error");
    assert.equal(err.firstElement()?.name, "not-well-formed");
    await conn.element("close", NS.framing);
    await conn.close();
  });

  it("refuses <open/> outside the framing namespace and stanzas before <open/>", async () => {
    const a = await WsConnection.open(ws);
    a.send(`<open xmlns='jabber:client' to='localhost' version='1.0'/>`);
    assert.equal((await a.element("stream:error")).firstElement()?.name, "invalid-namespace");
    await a.close();
    const b = await WsConnection.open(ws);
    b.send(`<message xmlns='jabber:client' to='bob@localhost'><body>x</body></message>`);
    assert.equal((await b.element("stream:error")).firstElement()?.name, "not-well-formed");
    await b.close();
  });

  it("closes a frame over the stanza size limit with 1009 (maxPayload)", async () => {
    const conn = await WsConnection.open(ws);
    conn.open("localhost");
    await conn.element("stream:features");
    conn.send(`<message xmlns='jabber:client'><body>${"x".repeat(25000)}</body></message>`);
    const { code } = await conn.closed;
    assert.equal(code, 1009);
  });

  it("treats ws through a proxy that says http as insecure: no SASL offered, attempts refused", async () => {
    const headers = { "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "http" };
    const conn = await WsConnection.open(ws, { headers });
    conn.open("localhost");
    await conn.element("open", NS.framing);
    const features = await conn.element("stream:features");
    assert.deepEqual(mechanismsOf(features), [], "require_encryption: nothing before a secure channel");
    await assert.rejects(saslExchange(conn, "alice", "wonderland", "PLAIN"), /encryption-required/);
    await conn.close();
  });

  it("trusts X-Forwarded-Proto: https from a trusted proxy and uses X-Forwarded-For as the client address", async () => {
    const headers = { "X-Forwarded-For": "198.51.100.8", "X-Forwarded-Proto": "https" };
    const alice = await wsLogin(ws, "alice@localhost", "wonderland", { headers, resource: "proxied" });
    const session = ts.server.core.sessions.resources("alice@localhost").find((s) => s.resource === "proxied");
    assert.equal(session?.remoteAddress, "198.51.100.8");
    assert.equal(session?.secure, true);
    assert.equal(session?.transport, "websocket");
    await alice.close();
  });

  it("resumes a stream management session on a new WebSocket after the old one died (XEP-0198)", async () => {
    const SM = "urn:xmpp:sm:3";
    const alice = await wsLogin(ws, "alice@localhost", "wonderland", { resource: "tab" });
    alice.send(xml("enable", { xmlns: SM, resume: "true" }));
    const enabled = await alice.element("enabled", SM);
    const previd = enabled.attrs.id as string;
    assert.ok(previd);
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "sm" });
    bob.send(xml("message", { to: alice.jid, type: "chat" }, xml("body", null, "one")));
    await alice.expect((el) => el.name === "message" && el.getChildText("body") === "one");
    // The browser tab loses its network: no <close/>, the socket just dies.
    alice.ws.terminate();
    await alice.closed;
    await new Promise((r) => setTimeout(r, 100));
    bob.send(xml("message", { to: alice.jid, type: "chat" }, xml("body", null, "two")));

    const again = await WsConnection.open(ws);
    again.open("localhost");
    await again.element("stream:features");
    await saslExchange(again, "alice", "wonderland", "PLAIN");
    again.open("localhost");
    const features = await again.element("stream:features");
    assert.ok(features.getChild("sm", SM), "stream management is offered over WebSocket");
    // Nothing was acknowledged: both messages come again, on the new WebSocket.
    again.send(xml("resume", { xmlns: SM, previd, h: "0" }));
    const resumed = await again.element("resumed", SM);
    assert.equal(resumed.attrs.previd, previd);
    for (const body of ["one", "two"]) {
      const m = await again.expect((el) => el.name === "message" && el.getChildText("body") === body);
      assert.equal(m.attrs.xmlns, NS.client);
    }
    const session = ts.server.core.sessions.resources("alice@localhost").find((x) => x.resource === "tab");
    assert.equal(session?.transport, "websocket");
    again.send(xml("message", { to: bob.jid, type: "chat" }, xml("body", null, "back")));
    const back = await bob.expect((el) => el.name === "message" && el.getChildText("body") === "back");
    assert.equal(back.attrs.from, alice.jid, "same session, same full JID");
    await again.close();
    await bob.close();
  });

  it("works with a real client library: @xmpp/client over ws logs in and chats with a TCP client", async () => {
    // @xmpp/websocket uses the global WebSocket, which Node 20 does not have; ws provides the same API.
    const g = globalThis as { WebSocket?: unknown };
    const previous = g.WebSocket;
    g.WebSocket ??= WebSocket;
    const lib = xmppClient({
      service: ws,
      domain: "localhost",
      username: "alice",
      password: "wonderland",
      resource: "lib",
    });
    lib.on("error", () => {});
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "lib-peer" });
    const hello = new Promise<XmppElement>((resolve) => {
      lib.on("stanza", (st: XmppElement) => {
        if (st.is("message") && st.getChildText("body") === "hello lib") resolve(st);
      });
    });
    try {
      const address = await lib.start();
      assert.equal(address.toString(), "alice@localhost/lib");
      await lib.send(xmppXml("message", { to: bob.jid, type: "chat" }, xmppXml("body", {}, "hi from xmpp.js")));
      const got = await bob.expect((el) => el.name === "message" && el.getChildText("body") === "hi from xmpp.js");
      assert.equal(got.attrs.from, "alice@localhost/lib");
      bob.send(xml("message", { to: "alice@localhost/lib", type: "chat" }, xml("body", null, "hello lib")));
      assert.equal((await hello).attrs.from, bob.jid);
    } finally {
      await lib.stop().catch(() => {});
      g.WebSocket = previous;
      await bob.close();
    }
  });

  it("closes open WebSocket streams with system-shutdown when the server stops", async () => {
    const other = await startTestServer({
      users: [["carol@localhost", "pw"]],
      config: { http: { port: 0, tls_port: -1 } },
    });
    const carol = await wsLogin(`ws://127.0.0.1:${httpPort(other)}/xmpp-websocket`, "carol@localhost", "pw");
    const stopped = other.stop();
    const err = await carol.element("stream:error");
    assert.equal(err.firstElement()?.name, "system-shutdown");
    await carol.element("close", NS.framing);
    await carol.close();
    await stopped;
  });
});
