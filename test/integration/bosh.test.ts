import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BoshClient, boshBody, boshLogin, httpCall, httpPort, NS_HTTPBIND, NS_XBOSH } from "../helpers/web-client.ts";

const ping = (id: string) =>
  xml("iq", { xmlns: NS.client, type: "get", id, to: "localhost" }, xml("ping", { xmlns: NS.ping }));

describe("BOSH (XEP-0124, XEP-0206)", () => {
  let ts: TestServer;
  let url: string;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "wonderland"],
        ["bob@localhost", "builder"],
      ],
      config: { http: { port: 0, tls_port: 0, bosh_max_wait: 30, bosh_inactivity: 2, bosh_polling: 5 } },
    });
    url = `http://127.0.0.1:${httpPort(ts)}/http-bind`;
  });
  after(() => ts.stop());

  it("creates a session: capped hold and wait, session attributes and stream features (§7.1, XEP-0206 §4)", async () => {
    const raw = await httpCall(url, {
      method: "POST",
      body: boshBody({
        rid: "1000",
        to: "localhost",
        "xml:lang": "en",
        ver: "1.11",
        wait: "3600",
        hold: "5",
        "xmpp:version": "1.0",
      }),
      headers: { Origin: "https://web.example" },
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers["content-type"], "text/xml; charset=utf-8");
    assert.equal(raw.headers["access-control-allow-origin"], "*");
    const client = new BoshClient(url);
    const body = await client.create("localhost", { wait: "3600", hold: "5" });
    assert.equal(body.attrs.xmlns, NS_HTTPBIND);
    assert.ok((body.attrs.sid ?? "").length >= 20, "sid is long and random");
    assert.equal(body.attrs.wait, "30", "wait is capped by http.bosh_max_wait");
    assert.equal(body.attrs.hold, "1", "hold is capped at 1");
    assert.equal(body.attrs.requests, "2");
    assert.equal(body.attrs.inactivity, "2");
    assert.equal(body.attrs.polling, "5");
    assert.equal(body.attrs.ver, "1.11");
    assert.equal(body.attrs.from, "localhost");
    assert.equal(body.attrs.secure, "true");
    assert.equal(body.attrs["xmpp:version"], "1.0");
    assert.equal(body.attrs["xmpp:restartlogic"], "true");
    assert.equal(body.attrs["xmlns:xmpp"], NS_XBOSH);
    assert.ok(body.attrs.authid, "authid carries the stream id");
    const mechs = body
      .getChild("stream:features")
      ?.getChild("mechanisms", NS.sasl)
      ?.getChildren("mechanism")
      .map((m) => m.text());
    assert.ok(mechs?.includes("SCRAM-SHA-256") && mechs.includes("PLAIN"), "SASL over loopback HTTP is offered");
    await client.close();
  });

  it("logs in with SCRAM-SHA-1 (restart, bind) and exchanges messages with a TCP client", async () => {
    const alice = await boshLogin(url, "alice@localhost", "wonderland", { mechanism: "SCRAM-SHA-1", resource: "bosh" });
    assert.equal(alice.jid, "alice@localhost/bosh");
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "desk" });

    alice.send(
      xml("message", { xmlns: NS.client, to: "bob@localhost/desk", type: "chat" }, xml("body", null, "via bosh")),
    );
    const got = await bob.expectStanza("message", "chat");
    assert.equal(got.attrs.from, "alice@localhost/bosh");
    assert.equal(got.getChildText("body"), "via bosh");

    bob.send(xml("message", { to: "alice@localhost/bosh", type: "chat" }, xml("body", null, "via tcp")));
    const back = await alice.expect((el) => el.name === "message");
    assert.equal(back.attrs.xmlns, NS.client, "stanzas in a body are qualified by jabber:client (XEP-0206 §6)");
    assert.equal(back.getChildText("body"), "via tcp");
    const session = ts.server.core.sessions.resources("alice@localhost")[0];
    assert.equal(session?.transport, "bosh");
    await bob.close();
    await alice.close();
  });

  it("answers the restart request with the post-authentication features (XEP-0206 §5)", async () => {
    const client = new BoshClient(url);
    await client.create("localhost");
    const auth = await client.post({}, [
      xml("auth", { xmlns: NS.sasl, mechanism: "PLAIN" }, Buffer.from("\0alice\0wonderland").toString("base64")),
    ]);
    assert.ok(auth.getChild("success", NS.sasl), `${auth}`);
    const restarted = await client.post({ "xmpp:restart": "true", to: "localhost" });
    const features = restarted.getChild("stream:features");
    assert.ok(features?.getChild("bind", NS.bind), `${restarted}`);
    await client.close();
  });

  it("holds an empty request for `wait` seconds, and releases it when another request arrives (hold=1)", async () => {
    const client = new BoshClient(url);
    await client.create("localhost", { wait: "1" });
    const started = Date.now();
    const empty = await client.post();
    const waited = Date.now() - started;
    assert.equal(empty.elements().length, 0);
    assert.ok(waited >= 900 && waited < 2500, `held for ${waited} ms`);

    // A held request goes back at once when the next one arrives; the reply comes on the newer one.
    const held = client.post();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const [first, second] = await Promise.all([held, client.post({}, [ping("p1")])]);
    assert.ok(Date.now() - t0 < 800, "the held request was released early");
    assert.equal(first.elements().length, 0);
    // Stanzas before auth are refused, but the answer comes back: the ping got a stream error.
    assert.equal(second.attrs.type, "terminate");
    assert.equal(second.attrs.condition, "remote-stream-error");
    assert.equal(second.getChild("stream:error")?.firstElement()?.name, "not-authorized");
  });

  it("resends the buffered answer for a repeated rid, and terminates on a rid outside the window (§14)", async () => {
    const client = new BoshClient(url);
    await client.create("localhost");
    const rid = client.rid + 1;
    const auth = xml(
      "auth",
      { xmlns: NS.sasl, mechanism: "PLAIN" },
      Buffer.from("\0alice\0wonderland").toString("base64"),
    );
    const first = await client.post({}, [auth], rid);
    assert.ok(first.getChild("success", NS.sasl), `${first}`);
    // The client lost the answer and sends the same request again: it gets the same answer, not a second auth.
    const again = await client.post({}, [auth], rid);
    assert.equal(again.toString(), first.toString());
    const beyond = await client.post({}, [], rid + 3);
    assert.equal(beyond.attrs.type, "terminate");
    assert.equal(beyond.attrs.condition, "item-not-found");
    const after = await client.post({}, [], rid + 1);
    assert.equal(after.attrs.condition, "item-not-found", "the session is gone");
  });

  it("survives a broken held request: its rid can be resent, and nothing sent meanwhile is lost (§14.3)", async () => {
    const alice = await boshLogin(url, "alice@localhost", "wonderland", { resource: "flaky" });
    alice.stopPolling();
    await alice.post({}, [ping("flush")]);
    const rid = ++alice.rid;
    // A request is held, then its connection breaks (a phone switching networks).
    const broken = request(url, { method: "POST", headers: { "Content-Type": "text/xml" }, agent: false });
    broken.on("error", () => {});
    broken.end(boshBody({ rid: String(rid), sid: alice.sid }));
    await new Promise((r) => setTimeout(r, 150));
    broken.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "flaky-peer" });
    bob.send(xml("message", { to: "alice@localhost/flaky", type: "chat" }, xml("body", null, "while broken")));
    await new Promise((r) => setTimeout(r, 100));
    // The client never saw an answer, so it sends the same request again: it gets the (empty) answer...
    const resent = await alice.post({}, [], rid);
    assert.equal(resent.elements().length, 0);
    // ...and the message comes with the next request.
    const next = await alice.post();
    assert.equal(next.getChild("message")?.getChildText("body"), "while broken");
    await bob.close();
    await alice.close();
  });

  it("processes requests in rid order when they arrive out of order (§14.2)", async () => {
    const client = await boshLogin(url, "alice@localhost", "wonderland", { resource: "order" });
    client.stopPolling();
    // Bring the open poll back, so that the two requests below are the only ones open (requests=2).
    const flushed = await client.post({}, [ping("flush")]);
    assert.equal(flushed.getChild("iq")?.attrs.id, "flush");
    const base = client.rid;
    client.rid = base + 2;
    // rid+2 arrives first and waits for rid+1; its ping must still be answered after rid+1's.
    const later = client.post({}, [ping("second")], base + 2);
    await new Promise((r) => setTimeout(r, 100));
    const earlier = client.post({}, [ping("first")], base + 1);
    await Promise.all([later, earlier]);
    client.startPolling();
    const a = await client.expect((el) => el.name === "iq" && el.attrs.id === "first");
    const b = await client.expect((el) => el.name === "iq" && el.attrs.id === "second");
    assert.equal(a.attrs.type, "result");
    assert.equal(b.attrs.type, "result");
    const ids = client.bodies.flatMap((body) => body.getChildren("iq").map((iq) => iq.attrs.id));
    assert.ok(ids.indexOf("first") < ids.indexOf("second"), `answers in order: ${ids}`);
    await client.close();
  });

  it("ends the session with type='terminate' and broadcasts unavailable presence (§13)", async () => {
    const bob = await connectClient(ts, "bob@localhost", "builder", { resource: "watch", presence: true });
    const alice = await boshLogin(url, "alice@localhost", "wonderland", { resource: "term" });
    // Directed presence makes bob see alice leave.
    alice.send(xml("presence", { xmlns: NS.client, to: "bob@localhost/watch" }));
    await bob.expect((el) => el.name === "presence" && el.attrs.from === "alice@localhost/term");
    alice.stopPolling();
    const end = await alice.post({ type: "terminate" }, [xml("presence", { xmlns: NS.client, type: "unavailable" })]);
    assert.equal(end.attrs.type, "terminate");
    assert.equal(end.attrs.condition, undefined, "a clean end has no condition");
    const gone = await bob.expect((el) => el.name === "presence" && el.attrs.type === "unavailable");
    assert.equal(gone.attrs.from, "alice@localhost/term");
    const after = await alice.post();
    assert.equal(after.attrs.condition, "item-not-found");
    await bob.close();
  });

  it("ends a session with no request open for `inactivity` seconds", async () => {
    const alice = await boshLogin(url, "alice@localhost", "wonderland", { resource: "idle" });
    alice.stopPolling();
    // The poll still open comes back when this request arrives, and this one carries the pong: none is left open.
    const last = await alice.post({}, [ping("last")]);
    assert.equal(last.getChild("iq")?.attrs.id, "last");
    assert.ok(ts.server.core.sessions.resources("alice@localhost").some((s) => s.resource === "idle"));
    await new Promise((r) => setTimeout(r, 2600));
    assert.ok(!ts.server.core.sessions.resources("alice@localhost").some((s) => s.resource === "idle"));
    const late = await alice.post();
    assert.equal(late.attrs.condition, "item-not-found");
  });

  it("refuses more simultaneous requests than `requests` with policy-violation (§11)", async () => {
    const client = new BoshClient(url);
    await client.create("localhost");
    const base = client.rid;
    const held = client.post({}, [], base + 1);
    await new Promise((r) => setTimeout(r, 50));
    const ahead = client.post({}, [], base + 3);
    await new Promise((r) => setTimeout(r, 50));
    const third = await client.post({}, [], base + 2);
    assert.equal(third.attrs.condition, "policy-violation");
    assert.equal((await held).attrs.type, "terminate");
    assert.equal((await ahead).attrs.type, "terminate");
  });

  it("refuses empty polls faster than `polling` in a polling session (hold=0, §12)", async () => {
    const client = new BoshClient(url);
    const created = await client.create("localhost", { hold: "0" });
    assert.equal(created.attrs.hold, "0");
    assert.equal(created.attrs.requests, "1");
    const first = await client.post();
    assert.equal(first.attrs.type, undefined, "a polling session answers at once");
    const second = await client.post();
    assert.equal(second.attrs.condition, "policy-violation");
  });

  it("answers protocol errors with terminal conditions (§17)", async () => {
    const post = (body: string) => httpCall(url, { method: "POST", body });
    const unknownHost = await post(boshBody({ rid: "1", to: "elsewhere.example", "xmpp:version": "1.0" }));
    assert.match(unknownHost.text, /condition='host-unknown'/);
    const unknownSid = await post(boshBody({ rid: "1", sid: "nope" }));
    assert.match(unknownSid.text, /condition='item-not-found'/);
    const noRid = await post(boshBody({ to: "localhost" }));
    assert.match(noRid.text, /condition='bad-request'/);
    const garbage = await post("<body xmlns='http://jabber.org/protocol/httpbind'");
    assert.equal(garbage.status, 400);
    assert.match(garbage.text, /condition='bad-request'/);
    const wrongNs = await post("<body xmlns='urn:example' rid='1'/>");
    assert.match(wrongNs.text, /condition='bad-request'/);
    // No xmpp:version: a legacy (pre-XMPP 1.0) client, refused by the stream with unsupported-version.
    const legacy = await post(boshBody({ rid: "1", to: "localhost" }).replace(/ xmlns:xmpp="[^"]*"/, ""));
    assert.match(legacy.text, /condition='remote-stream-error'/);
    assert.match(legacy.text, /unsupported-version/);
    const get = await httpCall(url);
    assert.equal(get.status, 200);
    const put = await httpCall(url, { method: "PUT", body: "<body/>" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, "GET, POST, HEAD, OPTIONS");
  });

  it("refuses a body over the size limit with 413", async () => {
    const big = boshBody({ rid: "1", to: "localhost" }, [
      `<message xmlns='jabber:client'><body>${"x".repeat(300000)}</body></message>`,
    ]);
    const res = await httpCall(url, { method: "POST", body: big });
    assert.equal(res.status, 413);
  });

  it("treats BOSH through a proxy that says http as insecure, and refuses a secure session's requests over it", async () => {
    const insecure = new BoshClient(url, { "X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "http" });
    const created = await insecure.create("localhost");
    assert.equal(created.getChild("stream:features")?.getChild("mechanisms", NS.sasl), undefined);
    await insecure.close();

    const secure = new BoshClient(url);
    await secure.create("localhost");
    const sneaky = new BoshClient(url, { "X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "http" });
    sneaky.sid = secure.sid;
    const refused = await sneaky.post({}, [], secure.rid + 1);
    assert.equal(refused.attrs.condition, "policy-violation");
  });

  it("works over HTTPS too", async () => {
    const tlsUrl = `https://127.0.0.1:${httpPort(ts, true)}/http-bind`;
    const alice = await boshLogin(tlsUrl, "alice@localhost", "wonderland", { resource: "https" });
    const pong = await alice.iq(ping("tls"));
    assert.equal(pong.attrs.type, "result");
    await alice.close();
  });
});
