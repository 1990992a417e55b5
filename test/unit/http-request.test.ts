import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import type { StorageTiming } from "../../src/core/metrics.ts";
import { addressList, requestInfo } from "../../src/http/request.ts";
import { HttpRoutes } from "../../src/http/routes.ts";
import { measuredStorage } from "../../src/storage/measured.ts";
import type { Storage } from "../../src/storage/types.ts";

/** A plain-HTTP request as the listener sees it. */
function req(peer: string, headers: Record<string, string> = {}, url = "/x"): IncomingMessage {
  return {
    socket: { remoteAddress: peer, localAddress: "127.0.0.1", localPort: 5280 },
    headers: { host: "chat.example:5280", ...headers },
    url,
  } as unknown as IncomingMessage;
}

const opts = { trustedProxies: addressList(["127.0.0.1", "::1", "10.0.0.0/8"]), externalUrl: "" };

describe("requestInfo: client address and channel security behind proxies", () => {
  it("plain HTTP from loopback without proxy headers is secure; from elsewhere it is not", () => {
    assert.equal(requestInfo(req("127.0.0.1"), opts)?.secure, true);
    assert.equal(requestInfo(req("::ffff:127.0.0.1"), opts)?.secure, true);
    assert.equal(requestInfo(req("::1"), opts)?.secure, true);
    const remote = requestInfo(req("198.51.100.1"), opts);
    assert.equal(remote?.secure, false);
    assert.equal(remote?.clientAddress, "198.51.100.1");
    assert.equal(remote?.baseUrl, "http://chat.example:5280");
  });

  it("believes a trusted proxy: the nearest untrusted X-Forwarded-For hop is the client", () => {
    const info = requestInfo(
      req("10.1.2.3", {
        "x-forwarded-for": "203.0.113.9, 198.51.100.4, 10.9.9.9",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "xmpp.example",
      }),
      opts,
    );
    assert.equal(info?.clientAddress, "198.51.100.4");
    assert.equal(info?.peerAddress, "10.1.2.3");
    assert.equal(info?.proxied, true);
    assert.equal(info?.secure, true);
    assert.equal(info?.scheme, "https");
    assert.equal(info?.baseUrl, "https://xmpp.example");
  });

  it("a loopback peer that forwards plain HTTP is not secure", () => {
    const info = requestInfo(req("127.0.0.1", { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http" }), opts);
    assert.equal(info?.secure, false);
    assert.equal(info?.clientAddress, "203.0.113.9");
  });

  it("ignores proxy headers from an untrusted peer, and proxy headers end the loopback exception", () => {
    const info = requestInfo(
      req("198.51.100.1", { "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "https" }),
      opts,
    );
    assert.equal(info?.clientAddress, "198.51.100.1");
    assert.equal(info?.secure, false);
    const none = { trustedProxies: addressList([]), externalUrl: "" };
    assert.equal(requestInfo(req("127.0.0.1", { "x-forwarded-proto": "https" }), none)?.secure, false);
  });

  it("refuses a malformed Host and non-origin request targets; external_url wins for URLs", () => {
    assert.equal(requestInfo(req("127.0.0.1", { host: "a b" }), opts), null);
    assert.equal(requestInfo(req("127.0.0.1", {}, "http://other.example/x"), opts), null);
    assert.equal(requestInfo(req("127.0.0.1", {}, "//evil.example/x"), opts)?.url.pathname, "//evil.example/x");
    assert.equal(
      requestInfo(req("127.0.0.1"), { ...opts, externalUrl: "https://chat.example.org" })?.baseUrl,
      "https://chat.example.org",
    );
  });
});

describe("HttpRoutes", () => {
  it("matches exact paths first, then the longest prefix; refuses taken paths; removes routes", () => {
    const routes = new HttpRoutes();
    const handler = () => {};
    routes.add({ path: "/a/", methods: ["GET"], handler });
    const removeAb = routes.add({ path: "/a/b/", methods: ["GET"], handler });
    routes.add({ path: "/a/b/c", methods: ["GET"], handler });
    assert.equal(routes.match("/a/b/c")?.route.path, "/a/b/c");
    assert.deepEqual([routes.match("/a/b/x/y")?.route.path, routes.match("/a/b/x/y")?.subpath], ["/a/b/", "x/y"]);
    assert.equal(routes.match("/a/z")?.route.path, "/a/");
    assert.equal(routes.match("/b"), undefined);
    assert.throws(() => routes.add({ path: "/a/", methods: ["GET"], handler }), /taken/);
    assert.throws(() => routes.add({ path: "relative", methods: ["GET"], handler }), /start with/);
    removeAb();
    assert.equal(routes.match("/a/b/x")?.route.path, "/a/");
  });
});

describe("measuredStorage", () => {
  it("times every store call, keeps `this` and results, and reports failures", async () => {
    const timings: StorageTiming[] = [];
    const store = {
      prefix: "v:",
      async get(k: string) {
        return this.prefix + k;
      },
      async fail() {
        throw new Error("boom");
      },
    };
    let closed = false;
    const backend = {
      kind: "fake",
      kv: store,
      async close() {
        closed = true;
      },
    } as unknown as Storage;
    const measured = measuredStorage(backend, (t) => timings.push(t)) as unknown as {
      kind: string;
      kv: typeof store;
      close(): Promise<void>;
    };
    assert.equal(measured.kind, "fake");
    assert.equal(await measured.kv.get("x"), "v:x");
    await assert.rejects(measured.kv.fail(), /boom/);
    assert.equal(measured.kv, measured.kv, "the wrapper is made once per store");
    await measured.close();
    assert.equal(closed, true);
    assert.deepEqual(
      timings.map((t) => [t.store, t.op, t.ok]),
      [
        ["kv", "get", true],
        ["kv", "fail", false],
      ],
    );
    assert.ok(timings.every((t) => t.seconds >= 0 && t.seconds < 1));
  });
});
