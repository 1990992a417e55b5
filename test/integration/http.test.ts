import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildConfig } from "../../src/config/load.ts";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BoshClient, httpCall, httpPort, WsConnection, wsLogin } from "../helpers/web-client.ts";

/** Reads one sample from Prometheus text (`name{labels} value`); labels as written by prom-client. */
function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  if (!line) throw new Error(`no sample ${name}{${labels}} in\n${text.slice(0, 2000)}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("HTTP: discovery, CORS, status, metrics, route table", () => {
  let ts: TestServer;
  let base: string;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "wonderland"],
        ["bob@localhost", "builder"],
      ],
      config: { http: { port: 0, tls_port: 0 } },
    });
    base = `http://127.0.0.1:${httpPort(ts)}`;
  });
  after(() => ts.stop());

  it("serves host-meta (XRD) naming the secure endpoints first, derived from the Host header (XEP-0156)", async () => {
    const res = await httpCall(`${base}/.well-known/host-meta`, { headers: { Host: "chat.example.org:5280" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/xrd+xml; charset=utf-8");
    assert.equal(res.headers["access-control-allow-origin"], "*");
    const tls = httpPort(ts, true);
    const hrefs = [...res.text.matchAll(/<Link rel="([^"]+)" href="([^"]+)"\/>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(hrefs, [
      ["urn:xmpp:alt-connections:websocket", `wss://chat.example.org:${tls}/xmpp-websocket`],
      ["urn:xmpp:alt-connections:xbosh", `https://chat.example.org:${tls}/http-bind`],
      ["urn:xmpp:alt-connections:websocket", "ws://chat.example.org:5280/xmpp-websocket"],
      ["urn:xmpp:alt-connections:xbosh", "http://chat.example.org:5280/http-bind"],
    ]);
    assert.match(
      res.text,
      /^<\?xml version="1.0" encoding="utf-8"\?>\n<XRD xmlns="http:\/\/docs.oasis-open.org\/ns\/xri\/xrd-1.0">/,
    );
  });

  it("serves host-meta.json over HTTPS with only the secure endpoints", async () => {
    const tls = httpPort(ts, true);
    const res = await httpCall(`https://127.0.0.1:${tls}/.well-known/host-meta.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(res.text), {
      links: [
        { rel: "urn:xmpp:alt-connections:websocket", href: `wss://127.0.0.1:${tls}/xmpp-websocket` },
        { rel: "urn:xmpp:alt-connections:xbosh", href: `https://127.0.0.1:${tls}/http-bind` },
      ],
    });
  });

  it("uses X-Forwarded-Host/-Proto from a trusted proxy, and ignores a Host header that is not a host", async () => {
    const res = await httpCall(`${base}/.well-known/host-meta.json`, {
      headers: { "X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "xmpp.example" },
    });
    assert.deepEqual(
      JSON.parse(res.text).links.map((l: { href: string }) => l.href),
      ["wss://xmpp.example/xmpp-websocket", "https://xmpp.example/http-bind"],
    );
    const bad = await httpCall(`${base}/.well-known/host-meta`, { headers: { Host: 'evil"><x' } });
    assert.equal(bad.status, 400);
  });

  it("answers CORS preflights for public endpoints only", async () => {
    const pre = await httpCall(`${base}/http-bind`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers["access-control-allow-origin"], "*");
    assert.equal(pre.headers["access-control-allow-methods"], "GET, POST, HEAD, OPTIONS");
    assert.equal(pre.headers["access-control-allow-headers"], "Content-Type");
    assert.ok(Number(pre.headers["access-control-max-age"]) > 0);
    const meta = await httpCall(`${base}/.well-known/host-meta`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(meta.headers["access-control-allow-origin"], "*");
    const status = await httpCall(`${base}/status`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(status.headers["access-control-allow-origin"], undefined, "/status is not for other origins");
    const get = await httpCall(`${base}/status`, { headers: { Origin: "https://app.example" } });
    assert.equal(get.headers["access-control-allow-origin"], undefined);
  });

  it("sets security headers everywhere and answers unknown paths and methods properly", async () => {
    const missing = await httpCall(`${base}/nothing-here`);
    assert.equal(missing.status, 404);
    for (const res of [missing, await httpCall(`${base}/status`)]) {
      assert.equal(res.headers["x-content-type-options"], "nosniff");
      assert.equal(res.headers["x-frame-options"], "DENY");
      assert.equal(res.headers["referrer-policy"], "no-referrer");
      assert.equal(res.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
      assert.equal(res.headers.server, undefined);
    }
    const post = await httpCall(`${base}/status`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET, HEAD, OPTIONS");
    const head = await httpCall(`${base}/status`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    const absolute = await httpCall(`${base}/status`, { headers: { "Content-Length": "5" }, body: "hello" });
    assert.equal(absolute.status, 413, "a GET route takes no body");
  });

  it("reports services and sessions in /status", async () => {
    const web = await wsLogin(`ws://127.0.0.1:${httpPort(ts)}/xmpp-websocket`, "alice@localhost", "wonderland");
    const tcp = await connectClient(ts, "bob@localhost", "builder");
    const res = await httpCall(`${base}/status`);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    const status = JSON.parse(res.text);
    assert.equal(status.status, "ok");
    assert.equal(typeof status.version, "string");
    assert.ok(status.uptime_seconds >= 0);
    const s = status.services;
    assert.deepEqual(s.c2s, { status: "up", details: `127.0.0.1:${ts.c2sPort} (1 session)` });
    assert.deepEqual(s.c2s_direct_tls, { status: "up", details: `127.0.0.1:${ts.tlsPort}` });
    assert.deepEqual(s.component, { status: "disabled", details: "not listening" });
    assert.deepEqual(s.http, { status: "up", details: `127.0.0.1:${httpPort(ts)}` });
    assert.deepEqual(s.https, { status: "up", details: `127.0.0.1:${httpPort(ts, true)}` });
    assert.deepEqual(s.websocket, { status: "up", details: "/xmpp-websocket (1 session)" });
    assert.deepEqual(s.bosh, { status: "up", details: "/http-bind (0 sessions)" });
    assert.deepEqual(status.hosts, { localhost: { status: "up", details: "2 sessions" } });
    await web.close();
    await tcp.close();
  });

  it("exposes Prometheus metrics: connections, sessions, stanzas, auth failures, storage latency, process", async () => {
    const scrape = async () => {
      const res = await httpCall(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers["content-type"] ?? "", /^text\/plain; version=0\.0\.4/);
      return res.text;
    };
    const before = await scrape();
    const web = await wsLogin(`ws://127.0.0.1:${httpPort(ts)}/xmpp-websocket`, "alice@localhost", "wonderland");
    const bosh = new BoshClient(`${base}/http-bind`);
    await bosh.create("localhost");
    web.send(xml("message", { to: "bob@localhost", type: "chat" }, xml("body", null, "counted")));
    await web.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
    // A wrong password is counted as an authentication failure.
    const wrong = await WsConnection.open(`ws://127.0.0.1:${httpPort(ts)}/xmpp-websocket`);
    wrong.open("localhost");
    await wrong.element("stream:features");
    wrong.send(xml("auth", { xmlns: NS.sasl, mechanism: "PLAIN" }, Buffer.from("\0alice\0nope").toString("base64")));
    await wrong.element("failure", NS.sasl);

    const now = await scrape();
    assert.equal(sample(now, "hearth_connections", 'transport="websocket"'), 2);
    assert.equal(sample(now, "hearth_connections", 'transport="bosh"'), 1);
    assert.equal(sample(now, "hearth_sessions", 'transport="websocket"'), 1);
    assert.equal(
      sample(now, "hearth_sessions", 'transport="bosh"'),
      0,
      "an unauthenticated BOSH session is no session",
    );
    const delta = (name: string, labels = "") => sample(now, name, labels) - sample(before, name, labels);
    assert.ok(delta("hearth_stanzas_in_total", 'kind="message"') >= 1);
    assert.ok(delta("hearth_stanzas_in_total", 'kind="iq"') >= 1, "the ping");
    assert.ok(delta("hearth_stanzas_out_total", 'kind="iq"') >= 1, "the ping result");
    assert.equal(delta("hearth_auth_failures_total"), 1);
    assert.ok(delta("hearth_auth_successes_total") >= 1);
    assert.equal(sample(now, "hearth_upload_bytes_total"), 0);
    assert.ok(
      sample(now, "hearth_storage_operation_duration_seconds_count", 'store="accounts",op="get",result="ok"') >= 1,
      "SASL looked the account up, timed",
    );
    assert.match(now, /^hearth_storage_operation_duration_seconds_bucket\{le="0\.001",store="accounts"/m);
    assert.match(now, /^process_cpu_user_seconds_total /m);
    assert.match(now, /^nodejs_eventloop_lag_seconds /m);
    await wrong.close();
    await web.close();
    await bosh.close();
  });

  it("shows /status and /metrics only to http.status_allow (after proxy headers)", async () => {
    const headers = { "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https" };
    for (const path of ["/status", "/metrics"]) {
      const res = await httpCall(`${base}${path}`, { headers });
      assert.equal(res.status, 403, path);
    }
  });

  it("serves routes that modules mount on server.http, prefix routes included", async () => {
    const seen: string[] = [];
    const remove = ts.server.core.http.add({
      path: "/files/",
      methods: ["GET", "PUT"],
      maxBodyBytes: 10,
      async handler(ctx) {
        const body = ctx.req.method === "PUT" ? (await ctx.body()).toString() : "";
        seen.push(`${ctx.req.method} ${ctx.subpath} ${ctx.url.searchParams.get("v")} ${body} ${ctx.secure}`);
        ctx.res.writeHead(200, { "Content-Type": "text/plain" });
        ctx.res.end("ok");
      },
    });
    assert.throws(() => ts.server.core.http.add({ path: "/files/", methods: ["GET"], handler() {} }), /taken/);
    assert.equal((await httpCall(`${base}/files/a/b.txt?v=1`)).text, "ok");
    assert.equal((await httpCall(`${base}/files/x?v=2`, { method: "PUT", body: "small" })).status, 200);
    const big = await httpCall(`${base}/files/x`, { method: "PUT", body: "far too large for ten bytes" });
    assert.equal(big.status, 413);
    assert.deepEqual(seen, ["GET a/b.txt 1  true", "PUT x 2 small true"]);
    remove();
    assert.equal((await httpCall(`${base}/files/a`)).status, 404);
  });

  it("ignores proxy headers from an untrusted peer", async () => {
    const other = await startTestServer({
      users: [["carol@localhost", "pw"]],
      config: { http: { port: 0, tls_port: -1, trusted_proxies: ["192.0.2.1"] } },
    });
    try {
      // Loopback, but with proxy headers nobody we trust vouches for: neither the address nor "https" is believed.
      const headers = { "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https" };
      const conn = await WsConnection.open(`ws://127.0.0.1:${httpPort(other)}/xmpp-websocket`, { headers });
      conn.open("localhost");
      const features = await conn.element("stream:features");
      assert.equal(features.getChild("mechanisms", NS.sasl), undefined);
      await conn.close();
      const status = await httpCall(`http://127.0.0.1:${httpPort(other)}/status`, { headers });
      assert.equal(status.status, 200, "the peer address (loopback) is what status_allow sees");
    } finally {
      await other.stop();
    }
  });

  it("names http.external_url in host-meta", async () => {
    const other = await startTestServer({
      config: { http: { port: 0, tls_port: -1, external_url: "https://chat.example.org/" } },
    });
    try {
      const res = await httpCall(`http://127.0.0.1:${httpPort(other)}/.well-known/host-meta.json`);
      assert.deepEqual(
        JSON.parse(res.text).links.map((l: { href: string }) => l.href),
        ["wss://chat.example.org/xmpp-websocket", "https://chat.example.org/http-bind"],
      );
    } finally {
      await other.stop();
    }
  });

  it("ends held BOSH requests with system-shutdown when the server stops", async () => {
    const other = await startTestServer({ config: { http: { port: 0, tls_port: -1 } } });
    const bosh = new BoshClient(`http://127.0.0.1:${httpPort(other)}/http-bind`);
    await bosh.create("localhost");
    const held = bosh.post();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await other.stop();
    const body = await held;
    assert.equal(body.attrs.type, "terminate");
    assert.equal(body.attrs.condition, "remote-stream-error");
    assert.equal(body.getChild("stream:error")?.firstElement()?.name, "system-shutdown");
    assert.ok(Date.now() - started < 2500, "shutdown does not wait for held requests");
  });

  it("validates trusted_proxies and status_allow entries", () => {
    assert.throws(() => buildConfig({ http: { trusted_proxies: ["10.0.0.0/33"] } }), /trusted_proxies/);
    assert.throws(() => buildConfig({ http: { status_allow: ["example.org"] } }), /status_allow/);
    assert.deepEqual(
      buildConfig({ http: { trusted_proxies: ["10.0.0.0/8", "fd00::/8", "192.0.2.1"] } }).http.trusted_proxies,
      ["10.0.0.0/8", "fd00::/8", "192.0.2.1"],
    );
  });
});
