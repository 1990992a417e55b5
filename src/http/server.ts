import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { serverEndPointHash } from "../c2s/channel-binding.ts";
import { listenAll } from "../core/listen.ts";
import type { Listener, ListenerInfo, Server } from "../core/server.ts";
import { readBody } from "./body.ts";
import { BoshEndpoint } from "./bosh.ts";
import { allowAnyOrigin, answerPreflight } from "./cors.ts";
import { hostMetaRoutes } from "./host-meta.ts";
import { metricsRoute, PrometheusMetrics } from "./metrics.ts";
import { addressList, type RequestInfoOptions, requestInfo } from "./request.ts";
import { type HttpContext, HttpError } from "./routes.ts";
import { statusRoute } from "./status.ts";
import { rejectUpgrade, webSocketEndpoint } from "./websocket.ts";

/**
 * Headers on every answer. API answers (JSON, XML) need no scripts, frames or referrers; a route that serves
 * HTML sets its own Content-Security-Policy before writing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
};

/** Time for a client to send its request headers (slowloris guard). */
const HEADERS_TIMEOUT_MS = 20_000;
/** Idle keep-alive connections are closed after this. BOSH clients send their next request at once. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Shutdown: idle connections close at once, busy ones get this long to finish. */
const CLOSE_GRACE_MS = 2000;

/**
 * The HTTP side: plain HTTP on `http.port` and HTTPS on `http.tls_port` (same certificate as c2s), both serving
 * the one route table on `server.http`. Mounts the built-in endpoints: WebSocket (RFC 7395), BOSH (XEP-0206),
 * connection discovery (XEP-0156), `/status` and `/metrics`. Start it after the hosts, so modules' routes exist.
 */
export async function startHttpListeners(server: Server): Promise<Listener> {
  const cfg = server.config.http;
  const info: ListenerInfo[] = [];
  if (cfg.port < 0 && (cfg.tls_port < 0 || !server.tls)) return { info, close: async () => {} };

  const throttle = server.authThrottle;
  const allowStatus = addressList(cfg.status_allow);
  const infoOpts: RequestInfoOptions = {
    trustedProxies: addressList(cfg.trusted_proxies),
    externalUrl: cfg.external_url.replace(/\/+$/, ""),
  };
  const metrics = new PrometheusMetrics(server);
  const bosh = new BoshEndpoint(server, throttle);
  const ws = webSocketEndpoint({
    server,
    throttle,
    serverEndPoint: server.tls ? serverEndPointHash(server.tls.cert) : null,
  });
  let tlsPort: number | null = null;
  const unmount = [
    server.http.addUpgrade(ws.route),
    server.http.add(bosh.route()),
    server.http.add(statusRoute(server, allowStatus)),
    server.http.add(metricsRoute(metrics, allowStatus)),
    ...hostMetaRoutes({ tlsPort: () => tlsPort }).map((r) => server.http.add(r)),
  ];

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(server, infoOpts, req, res).catch((err) => {
      server.log.error({ err, url: req.url }, "HTTP handler failed");
      if (!res.headersSent) plain(res, 500, "Internal Server Error");
      else res.destroy();
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const reqInfo = requestInfo(req, infoOpts);
    if (!reqInfo) return rejectUpgrade(socket, 400, "Bad Request", "bad request");
    const route = server.http.matchUpgrade(reqInfo.url.pathname);
    if (!route) return rejectUpgrade(socket, 404, "Not Found", "not found");
    route.handler(req, socket, head, reqInfo);
  };
  const configure = (srv: HttpServer) => {
    srv.headersTimeout = HEADERS_TIMEOUT_MS;
    // Held BOSH requests and streamed uploads outlive any fixed request timeout; bodies we buffer have their own.
    srv.requestTimeout = 0;
    srv.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    srv.on("upgrade", onUpgrade);
    srv.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    return srv;
  };

  const servers: HttpServer[] = [];
  const options = { maxHeaderSize: 16 * 1024 };
  try {
    if (cfg.port >= 0) {
      const r = await listenAll(() => configure(createServer(options, onRequest)), cfg.interfaces, cfg.port);
      servers.push(...(r.servers as HttpServer[]));
      for (const a of r.addresses) info.push({ name: "http", address: a, port: r.port, tls: "none" });
    }
    if (cfg.tls_port >= 0 && server.tls) {
      const { cert, key } = server.tls;
      const make = () =>
        configure(
          createHttpsServer({ ...options, cert, key, minVersion: "TLSv1.2", ALPNProtocols: ["http/1.1"] }, onRequest),
        ).on("tlsClientError", () => {});
      const r = await listenAll(make, cfg.interfaces, cfg.tls_port);
      servers.push(...(r.servers as HttpServer[]));
      tlsPort = r.port;
      for (const a of r.addresses) info.push({ name: "https", address: a, port: r.port, tls: "direct" });
    }
  } catch (err) {
    await closeServers(servers);
    for (const u of unmount) u();
    throw err;
  }

  return {
    info,
    async close() {
      for (const u of unmount) u();
      ws.close();
      metrics.close();
      await closeServers(servers);
    },
  };
}

/** Stops accepting, closes idle keep-alive connections now and busy ones after a grace period. */
function closeServers(servers: HttpServer[]): Promise<void> {
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
          setTimeout(() => s.closeAllConnections(), CLOSE_GRACE_MS).unref();
        }),
    ),
  ).then(() => undefined);
}

async function handleRequest(
  server: Server,
  infoOpts: RequestInfoOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  const info = requestInfo(req, infoOpts);
  if (!info) return plain(res, 400, "Bad Request");
  const match = server.http.match(info.url.pathname);
  if (!match) return plain(res, 404, "Not Found");
  const { route, subpath } = match;
  const method = req.method ?? "GET";
  const methods: string[] = route.methods.includes("GET") ? [...route.methods, "HEAD"] : route.methods;
  if (method === "OPTIONS") {
    if (route.cors && answerPreflight(req, res, methods)) return;
    res.writeHead(204, { Allow: [...methods, "OPTIONS"].join(", ") });
    res.end();
    return;
  }
  if (!methods.includes(method)) {
    res.setHeader("Allow", [...methods, "OPTIONS"].join(", "));
    return plain(res, 405, "Method Not Allowed");
  }
  if (route.cors) allowAnyOrigin(res);

  const limit = route.maxBodyBytes ?? 0;
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (limit === 0 && hasBody) return tooLarge(res, req);
  const ctx: HttpContext = { ...info, req, res, subpath, body: () => readBody(req, limit) };
  try {
    await route.handler(ctx);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err.status === 413) return tooLarge(res, req);
    plain(res, err.status, err.message);
  }
}

/** 413, then close: the rest of the body is never read (the client may still be sending it). */
function tooLarge(res: ServerResponse, req: IncomingMessage): void {
  res.setHeader("Connection", "close");
  res.on("finish", () => req.socket.destroySoon());
  plain(res, 413, "Payload Too Large");
}

function plain(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
