/**
 * Hostile input over HTTP: malformed requests to every route (bad methods, bodies, headers, huge URLs, path
 * traversal), BOSH bodies that are not XML or not BOSH, and WebSocket frames that are not XMPP. The promise
 * checked: every request gets a 4xx (or a clean close), never a 5xx; the server logs no error, leaves no promise
 * rejection unhandled and keeps serving.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type WebSocket from "ws";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BoshClient, boshBody, httpCall, httpPort, NS_HTTPBIND, WsConnection } from "../helpers/web-client.ts";
import { seeded } from "./hostile-fixtures.ts";

const SEED = Number(process.env.HEARTH_FUZZ_SEED ?? 0x5eed);
const REQUESTS = Number(process.env.HEARTH_FUZZ_HTTP ?? 400);

type LogRecord = { level: number; msg?: string; [k: string]: unknown };

/**
 * Sends raw bytes as one HTTP request on a fresh connection and returns the status of the first answer (0 when
 * the server closed without answering). `end` half-closes our side after writing, for requests that promise more
 * body than they carry.
 */
function rawRequest(port: number, data: Buffer | string, end = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(finish, 5000);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      // One complete answer is enough (keep-alive would hold the socket open).
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head));
      if (!length || text.length - head - 4 >= Number(length[1])) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
    socket.on("connect", () => {
      socket.write(data);
      if (end) socket.end();
    });
  });
}

describe("hostile input: HTTP", () => {
  let ts: TestServer;
  let port: number;
  let base: string;
  const logs: LogRecord[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const serverErrors = () => logs.filter((r) => r.level >= 50 || /failed/.test(String(r.msg ?? "")));

  before(async () => {
    process.on("unhandledRejection", onRejection);
    ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: {
        admins: ["alice@localhost"],
        http: { port: 0, tls_port: -1 },
        web: { invite_registration: true },
        log: { level: "warn", format: "json" },
      },
      logDestination: {
        write(line: string) {
          for (const l of line.split("\n")) if (l.trim()) logs.push(JSON.parse(l) as LogRecord);
        },
      },
    });
    port = httpPort(ts);
    base = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await ts.stop();
    process.off("unhandledRejection", onRejection);
    assert.deepEqual(rejections, [], "no promise rejection went unhandled");
  });

  it(`answers ${REQUESTS} malformed requests to every route with 4xx, never 5xx (seed ${SEED})`, async () => {
    const random = seeded(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const chance = (p: number) => random() < p;
    const slot = randomBytes(16).toString("base64url");
    const token = "a".repeat(26);
    const paths = [
      "/",
      "/http-bind",
      "/http-bind/",
      "/HTTP-BIND",
      "/xmpp-websocket",
      "/.well-known/host-meta",
      "/.well-known/host-meta.json",
      "/.well-known/../status",
      "/status",
      "/status?format=json&x=%ZZ",
      "/metrics",
      "/admin",
      "/admin/",
      "/admin?created=../../etc",
      `/invite/${token}`,
      "/invite/",
      "/invite/%00",
      "/invite/../admin",
      `/upload/${slot}/a.png`,
      `/upload/${slot}/a.png?jid=alice%40localhost&size=3&type=&expires=9999999999&sig=AAAA`,
      `/upload/${slot}/%2e%2e%2f%2e%2e%2fetc%2fpasswd`,
      "/upload/../../etc/passwd",
      "/upload/%2e%2e/%2e%2e/etc/passwd",
      "/upload/..\\..\\etc\\passwd",
      `/upload/${slot}/`,
      `/upload/${slot}/a/b`,
      "/upload/%",
      "//status",
      "/%",
      "/%zz",
      "/a%00b",
      `/${"a".repeat(9000)}`,
      `/status?${"q=1&".repeat(3000)}`,
      "*",
      "http://evil.example/status",
    ];
    const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "get", "G@T"];
    const headerSets: (() => string[])[] = [
      () => ["Host: localhost"],
      () => [],
      () => ["Host: evil host with spaces"],
      () => [`Host: ${"h".repeat(17_000)}`],
      () => ["Host: localhost", "Content-Length: -1"],
      () => ["Host: localhost", "Content-Length: abc"],
      () => ["Host: localhost", "Content-Length: 5", "Content-Length: 6"],
      () => ["Host: localhost", "Transfer-Encoding: chunked"],
      () => ["Host: localhost", "Transfer-Encoding: gzip, chunked"],
      () => ["Host: localhost", `Cookie: hearth_admin=${"A".repeat(43)}; x=${"y".repeat(4000)}`],
      () => ["Host: localhost", "Range: bytes=99999999999999999999-", "If-None-Match: *", "If-Range: garbage"],
      () => ["Host: localhost", "X-Forwarded-For: not-an-ip, ::1, 999.1.1.1", "X-Forwarded-Proto: gopher"],
      () => ["Host: localhost", "X-Forwarded-Host: evil.example/path", 'Forwarded: for="[::1]"'],
      () => ["Host: localhost", "Origin: https://evil.example", "Sec-Fetch-Site: cross-site"],
      () => ["Host: localhost", "Content-Type: application/x-www-form-urlencoded"],
      () => ["Host: localhost", "Content-Type: text/xml; charset=utf-16"],
      () => ["Host: localhost", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"],
    ];
    const bodies = [
      "",
      "not xml at all",
      '{"json": true}',
      "<body/>",
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost'/>`,
      "action=login&jid=alice%40localhost&password=wrong",
      "action=create-invite&csrf=x&host=localhost&uses=1e9&days=-1",
      "username=a&password=12345678&password2=12345678&csrf=1.AAAA",
      "%%%%===&&&",
      "\u0000\u0001\u0002\u00ff",
      "x".repeat(20_000),
    ];
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const method = pick(methods);
      const path = pick(paths);
      const headers = pick(headerSets)();
      const body = chance(0.5) ? pick(bodies) : "";
      const declared = headers.some((h) => /^(content-length|transfer-encoding):/i.test(h));
      if (body !== "" && !declared) headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
      headers.push("Connection: close");
      const request = `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n${body}`;
      const { status } = await rawRequest(port, request, declared);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) fiveHundreds.push(request.slice(0, 300));
    }
    assert.deepEqual(fiveHundreds, [], `5xx answers (all statuses: ${JSON.stringify([...statuses])})`);
    assert.ok((statuses.get(0) ?? 0) < REQUESTS / 4, `mostly answered: ${JSON.stringify([...statuses])}`);
    assert.equal((await httpCall(`${base}/status`)).status, 200, "still serving");
    assert.deepEqual(serverErrors(), [], "the server logged no error");
  });

  it("answers BOSH bodies that are not XML, not BOSH or not sane with a terminal condition, never 5xx (XEP-0124 §17)", async () => {
    const url = `${base}/http-bind`;
    const bodies = [
      "",
      "hello",
      "{}",
      "<body",
      "<body xmlns='urn:wrong' rid='1'/>",
      `<!DOCTYPE body><body xmlns='${NS_HTTPBIND}' rid='1'/>`,
      `<?pi?><body xmlns='${NS_HTTPBIND}' rid='1'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1'><!-- c --></body>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' rid='2'/>`,
      `<body xmlns='${NS_HTTPBIND}'>${"<x>".repeat(100)}${"</x>".repeat(100)}</body>`,
      `<body xmlns='${NS_HTTPBIND}' rid='${"9".repeat(40)}' to='localhost'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='-1' to='localhost'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='abc' to='localhost'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='a@b@c'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost' wait='-5' hold='99999999999'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost' wait='NaN' hold='x'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' sid='nope'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' sid='' type='terminate'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost' ver='x.y.z' xml:lang='${"l".repeat(5000)}'/>`,
      `<notbody xmlns='${NS_HTTPBIND}' rid='1' to='localhost'/>`,
      `<body xmlns='${NS_HTTPBIND}' rid='1' to='localhost'>${"x".repeat(300_000)}</body>`,
    ];
    for (const body of bodies) {
      const res = await httpCall(url, { method: "POST", body });
      assert.ok(res.status < 500, `${res.status} for ${body.slice(0, 80)}`);
      if (res.status === 200) assert.match(res.text, /type=["']terminate["']|sid=/, body.slice(0, 80));
    }
    // An established session fed junk: stream errors end it, nothing else breaks.
    const junk = [
      "<message xmlns='jabber:client'><body>not authenticated</body></message>",
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='NOPE'/>",
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!!not base64!!!</auth>",
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>",
      "<iq xmlns='jabber:client' type='set' id='r'><query xmlns='jabber:iq:register'/></iq>",
    ];
    for (const payload of junk) {
      const client = new BoshClient(url);
      const created = await client.create("localhost");
      assert.ok(client.sid, `${created}`);
      const answer = await client.post({}, [payload]).catch((err: Error) => err);
      assert.ok(!(answer instanceof Error) || !/HTTP 5/.test(answer.message), `${answer}`);
      await client.close();
    }
    // A rid far ahead of the window ends that session only (XEP-0124 §14.2).
    const client = new BoshClient(url);
    await client.create("localhost");
    const ahead = await client.post({}, [], client.rid + 1000);
    assert.equal(ahead.attrs.condition, "item-not-found");
    assert.equal((await httpCall(`${base}/status`)).status, 200);
    assert.deepEqual(serverErrors(), []);
  });

  it("closes WebSocket streams fed frames that are not XMPP, and refuses bad handshakes (RFC 7395 §3.2, §3.3)", async () => {
    const url = `ws://127.0.0.1:${port}/xmpp-websocket`;
    await assert.rejects(WsConnection.open(url, { protocols: ["chat"] }), /HTTP 400/);
    const bad = await rawRequest(
      port,
      "GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: short\r\n\r\n",
    );
    assert.ok(bad.status >= 400 && bad.status < 500, `${bad.status}`);
    const frames: (string | Buffer)[] = [
      "not xml",
      "<open xmlns='urn:wrong' to='localhost' version='1.0'/>",
      "<message xmlns='jabber:client'/>",
      Buffer.from([0, 1, 2, 3]),
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='nowhere.example' version='1.0'/>",
      `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/><extra/>`,
      "<!DOCTYPE x><open/>",
      "x".repeat(300_000),
      `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`,
    ];
    for (const frame of frames) {
      const conn = await WsConnection.open(url).catch(() => null);
      assert.ok(conn, "the handshake works");
      const raw: WebSocket = conn.ws;
      const closed = new Promise<number>((resolve) => raw.once("close", (code) => resolve(code)));
      // The frame, then whatever the stream is after it; a stream that survives gets closed by us.
      raw.on("message", () => {});
      if (typeof frame === "string") raw.send(frame);
      else raw.send(frame, { binary: true });
      if (
        frame.toString().startsWith("<open") &&
        !frame.toString().includes("extra") &&
        !frame.toString().includes("nowhere")
      ) {
        raw.send(
          xml("message", { xmlns: NS.client, to: "alice@localhost" }, xml("body", null, "unauthenticated")).toString(),
        );
      }
      const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 6000))]);
      assert.ok(code !== -1, `the server closed the WebSocket after ${frame.toString().slice(0, 60)}`);
      assert.ok(code !== 1011, `no internal error close after ${frame.toString().slice(0, 60)}`);
    }
    assert.equal((await httpCall(`${base}/status`)).status, 200);
    assert.deepEqual(serverErrors(), []);
  });

  it("survives clients that vanish mid-request and mid-body", async () => {
    for (const partial of [
      "POST /http-bind HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n<body",
      "PUT /upload/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\nabc",
      "POST /admin HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\naction=lo",
      `POST /invite/${"a".repeat(26)} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\nusern`,
      "GET /status HTTP/1.1\r\nHost: loc",
      "GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(partial);
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on("error", () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await httpCall(`${base}/status`)).status, 200);
    assert.deepEqual(serverErrors(), []);
  });

  it("ends a BOSH session that sends stanzas before authenticating, cleanly (RFC 6120 §5.3.1)", async () => {
    const client = new BoshClient(`${base}/http-bind`);
    await client.create("localhost");
    const body = boshBody({ rid: String(++client.rid), sid: client.sid }, [
      "<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>",
    ]);
    const res = await httpCall(`${base}/http-bind`, { method: "POST", body });
    assert.equal(res.status, 200);
    // Before authentication an iq outside registration ends the session (RFC 6120 §5.3.1), cleanly.
    assert.match(res.text, /not-authorized|terminate/);
    assert.deepEqual(serverErrors(), []);
  });
});
