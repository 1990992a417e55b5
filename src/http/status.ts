import type { BlockList } from "node:net";
import type { ListenerInfo, Server } from "../core/server.ts";
import { HEARTH_VERSION } from "../modules/version.ts";
import { BOSH_PATH } from "./bosh.ts";
import { inList } from "./request.ts";
import type { HttpContext, HttpRoute } from "./routes.ts";
import { WEBSOCKET_PATH } from "./websocket.ts";

/** One line of `/status`: is it running, and a short human description. */
export interface ServiceStatus {
  status: "up" | "disabled" | "stopping";
  details: string;
}

/** The `/status` document. */
export interface StatusReport {
  status: "ok" | "stopping";
  version: string;
  uptime_seconds: number;
  services: Record<string, ServiceStatus>;
  hosts: Record<string, ServiceStatus>;
}

/** Builds the status report from the live registries (nothing is cached). */
export function statusReport(server: Server): StatusReport {
  const state = server.isStopping ? "stopping" : "up";
  const listening = server.listening;
  const bound = { tcp: 0, websocket: 0, bosh: 0 };
  const perHost = new Map<string, number>();
  for (const s of server.sessions.all()) {
    bound[s.transport]++;
    perHost.set(s.host, (perHost.get(s.host) ?? 0) + 1);
  }
  const components = [...server.connections].filter((c) => c.kind === "component").length;
  const listener = (name: string, extra = ""): ServiceStatus => {
    const mine = listening.filter((l) => l.name === name);
    if (mine.length === 0) return { status: "disabled", details: "not listening" };
    return { status: state, details: `${mine.map(address).join(", ")}${extra}` };
  };
  const http = listening.some((l) => l.name === "http" || l.name === "https");
  const endpoint = (path: string, n: number): ServiceStatus =>
    http ? { status: state, details: `${path} (${sessions(n)})` } : { status: "disabled", details: "no HTTP listener" };

  const hosts: Record<string, ServiceStatus> = {};
  for (const host of server.hosts.values()) {
    if (host.kind !== "user") continue;
    hosts[host.name] = { status: state, details: `${sessions(perHost.get(host.name) ?? 0)}` };
  }
  return {
    status: server.isStopping ? "stopping" : "ok",
    version: HEARTH_VERSION,
    uptime_seconds: Math.round((Date.now() - server.startedAt) / 1000),
    services: {
      // TCP sessions of both c2s listeners (STARTTLS and direct TLS) are counted here.
      c2s: listener("c2s", ` (${sessions(bound.tcp)})`),
      c2s_direct_tls: listener("c2s-direct-tls"),
      component: listener("component", ` (${components} connected)`),
      http: listener("http"),
      https: listener("https"),
      websocket: endpoint(WEBSOCKET_PATH, bound.websocket),
      bosh: endpoint(BOSH_PATH, bound.bosh),
    },
    hosts,
  };
}

function address(l: ListenerInfo): string {
  return `${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}`;
}

function sessions(n: number): string {
  return `${n} session${n === 1 ? "" : "s"}`;
}

/** Answers 403 unless the client address is in `http.status_allow`. Returns whether it may proceed. */
export function allowedToSee(ctx: HttpContext, allow: BlockList): boolean {
  if (inList(allow, ctx.clientAddress)) return true;
  const body = "Forbidden: see http.status_allow\n";
  ctx.res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  ctx.res.end(body);
  return false;
}

/** `GET /status`: JSON service status, for monitoring and the admin page. */
export function statusRoute(server: Server, allow: BlockList): HttpRoute {
  return {
    path: "/status",
    methods: ["GET"],
    handler(ctx) {
      if (!allowedToSee(ctx, allow)) return;
      const body = `${JSON.stringify(statusReport(server), null, 2)}\n`;
      ctx.res.writeHead(server.isStopping ? 503 : 200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        "Cache-Control": "no-store",
      });
      ctx.res.end(body);
    },
  };
}
