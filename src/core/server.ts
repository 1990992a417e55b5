import type { HearthConfig } from "../config/types.ts";
import { HttpRoutes } from "../http/routes.ts";
import type { Logger } from "../log.ts";
import type { Storage } from "../storage/types.ts";
import { AuthThrottle } from "./auth-throttle.ts";
import { StreamError } from "./errors.ts";
import { Host } from "./host.ts";
import { ServerMetrics } from "./metrics.ts";
import type { ModuleDefinition } from "./module.ts";
import { HostModuleContext, ServiceRegistry } from "./module-context.ts";
import { Router } from "./router.ts";
import type { Session } from "./session.ts";
import { SessionManager } from "./sessions.ts";

/** A listening socket, as shown in the startup banner and by `hearth check`. */
export interface ListenerInfo {
  name: string;
  address: string;
  port: number;
  tls: "starttls" | "direct" | "none";
}

/** Something that accepts connections and can stop doing so. */
export interface Listener {
  readonly info: ListenerInfo[];
  close(): Promise<void>;
}

/** TLS material the listeners share. */
export interface TlsMaterial {
  cert: string;
  key: string;
  fingerprint: string;
}

/**
 * The server core: hosts with their modules, the session registry, the router and storage. Transports
 * (c2s TCP, components, later WebSocket/BOSH/s2s) register their listeners and live connections here so
 * that shutdown can reach them.
 */
export class Server {
  readonly hosts = new Map<string, Host>();
  readonly sessions: SessionManager;
  readonly router: Router;
  /** Failed logins per remote address, shared by every transport (TCP, WebSocket, BOSH). */
  readonly authThrottle: AuthThrottle;
  readonly startedAt = Date.now();
  /** Every open connection (any state, any transport), for limits and shutdown. */
  readonly connections = new Set<Session>();
  /** Counters the core keeps (stanzas, authentication, storage timings); `/metrics` reads them. */
  readonly metrics = new ServerMetrics();
  /**
   * The HTTP route table shared by every HTTP feature. Modules mount routes here while they load; the HTTP
   * listeners (src/http/server.ts) start after the hosts and serve whatever is mounted.
   */
  readonly http = new HttpRoutes();
  private readonly listeners: Listener[] = [];
  private readonly services = new Map<string, ServiceRegistry>();
  private stopping = false;

  constructor(
    readonly config: HearthConfig,
    readonly storage: Storage,
    readonly log: Logger,
    readonly tls: TlsMaterial | null,
  ) {
    this.sessions = new SessionManager(config.c2s.max_resources);
    this.authThrottle = new AuthThrottle(config.auth.max_failures_per_ip, config.auth.failure_window * 1000);
    this.router = new Router(this.hosts, this.sessions, log.child({ component: "router" }));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Creates a host and loads the modules meant for its kind. */
  async addHost(name: string, kind: "user" | "service", modules: ModuleDefinition[]): Promise<Host> {
    if (this.hosts.has(name)) throw new Error(`host ${name} is defined twice`);
    const host = new Host(name, kind);
    this.hosts.set(name, host);
    const registry = new ServiceRegistry();
    this.services.set(name, registry);
    for (const mod of modules) {
      if ((mod.hostKind ?? "user") !== kind) continue;
      if (this.config.disabled_modules.includes(mod.name)) continue;
      await mod.load(new HostModuleContext(this, host, registry, mod));
      host.modules.push(mod.name);
    }
    return host;
  }

  /** The user host for a domain, if we serve it. */
  userHost(domain: string): Host | undefined {
    const h = this.hosts.get(domain);
    return h?.kind === "user" ? h : undefined;
  }

  addListener(listener: Listener): void {
    this.listeners.push(listener);
  }

  get listening(): ListenerInfo[] {
    return this.listeners.flatMap((l) => l.info);
  }

  /**
   * Graceful shutdown: stop accepting, close every stream with `system-shutdown` (RFC 6120 §4.9.3.18)
   * so clients reconnect later, let modules flush, then close storage.
   */
  async stop(reason = "Server is shutting down"): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ reason }, "stopping");
    // Stop accepting first; the listeners' close only completes once their connections are gone.
    const listenersClosed = Promise.allSettled(this.listeners.map((l) => l.close()));
    const open = [...this.connections];
    for (const conn of open) conn.close(new StreamError("system-shutdown", reason));
    // Let sockets flush their closing bytes, the stanzas being processed finish (their writes must not meet a
    // closed store) and modules run their close handlers (unavailable presence, last-seen times) before storage
    // closes; a peer that never answers, or a handler that never ends, cannot hold shutdown for long.
    await Promise.race([
      Promise.allSettled(open.flatMap((c) => [c.finished, c.whenIdle()])),
      new Promise((r) => setTimeout(r, 3000).unref()),
    ]);
    await Promise.race([listenersClosed, new Promise((r) => setTimeout(r, 3000).unref())]);
    for (const host of this.hosts.values()) await host.stop();
    await this.storage.close();
    this.log.info("stopped");
  }
}
