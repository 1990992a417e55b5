import type { BlockList } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Server } from "../core/server.ts";
import type { HttpRoute } from "./routes.ts";
import { allowedToSee } from "./status.ts";

/** Process metrics (CPU, memory, event loop, GC) belong to the process, so one collector serves every server. */
let processRegistry: Registry | null = null;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Storage latency buckets, in seconds: SQLite calls take microseconds, a networked database milliseconds. */
const STORAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The Prometheus view of a server. Counters mirror the core's plain counters (`server.metrics`) and gauges
 * count the live registries when scraped, so the hot paths never touch prom-client.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;

  constructor(server: Server) {
    const core = server.metrics;
    const registers = [this.registry];
    new Gauge({
      name: "hearth_connections",
      help: "Open client and component connections, by transport (any state)",
      labelNames: ["transport"],
      registers,
      collect() {
        const n: Record<string, number> = { tcp: 0, websocket: 0, bosh: 0, component: 0 };
        for (const c of server.connections) {
          const t = "transport" in c ? String(c.transport) : c.kind;
          n[t] = (n[t] ?? 0) + 1;
        }
        for (const [transport, v] of Object.entries(n)) this.set({ transport }, v);
      },
    });
    new Gauge({
      name: "hearth_sessions",
      help: "Authenticated client sessions with a bound resource, by transport",
      labelNames: ["transport"],
      registers,
      collect() {
        const n = { tcp: 0, websocket: 0, bosh: 0 };
        for (const s of server.sessions.all()) n[s.transport]++;
        for (const [transport, v] of Object.entries(n)) this.set({ transport }, v);
      },
    });
    const byKind = (name: string, help: string, read: () => Record<string, number>) =>
      new Counter({
        name,
        help,
        labelNames: ["kind"],
        registers,
        collect() {
          this.reset();
          for (const [kind, n] of Object.entries(read())) this.inc({ kind }, n);
        },
      });
    byKind("hearth_stanzas_in_total", "Stanzas received from clients, by kind", () => core.stanzasIn);
    byKind("hearth_stanzas_out_total", "Stanzas sent to clients, by kind", () => core.stanzasOut);
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    total("hearth_auth_failures_total", "Failed or aborted SASL authentications", () => core.authFailures);
    total("hearth_auth_successes_total", "Successful SASL authentications", () => core.authSuccesses);
    total("hearth_upload_bytes_total", "Bytes received by HTTP file upload (XEP-0363)", () => core.uploadBytes);
    const storage = new Histogram({
      name: "hearth_storage_operation_duration_seconds",
      help: "Time taken by storage calls, by store and operation",
      labelNames: ["store", "op", "result"],
      buckets: STORAGE_BUCKETS,
      registers,
    });
    this.unsubscribe = core.onStorageTiming((t) =>
      storage.observe({ store: t.store, op: t.op, result: t.ok ? "ok" : "error" }, t.seconds),
    );
  }

  /** The exposition text: process metrics, then the server's. */
  async text(): Promise<string> {
    return `${await processMetrics().metrics()}\n${await this.registry.metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
  }
}

/** `GET /metrics` in the Prometheus text format, for the addresses in `http.status_allow`. */
export function metricsRoute(metrics: PrometheusMetrics, allow: BlockList): HttpRoute {
  return {
    path: "/metrics",
    methods: ["GET"],
    async handler(ctx) {
      if (!allowedToSee(ctx, allow)) return;
      const body = await metrics.text();
      ctx.res.writeHead(200, {
        "Content-Type": metrics.contentType,
        "Content-Length": Buffer.byteLength(body),
        "Cache-Control": "no-store",
      });
      ctx.res.end(body);
    },
  };
}
