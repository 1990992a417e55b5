import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { startC2sListeners } from "./c2s/listener.ts";
import { startComponentListener } from "./component/listener.ts";
import type { HearthConfig } from "./config/types.ts";
import type { ServerMetrics } from "./core/metrics.ts";
import { type ListenerInfo, Server } from "./core/server.ts";
import { startHttpListeners } from "./http/server.ts";
import { createLogger, type Logger } from "./log.ts";
import { builtinModules } from "./modules/index.ts";
import { measuredStorage } from "./storage/measured.ts";
import { openStorage } from "./storage/open.ts";
import { loadCertificate } from "./tls/certs.ts";

/** A running server, as the CLI and the tests see it. */
export interface HearthServer {
  stop(reason?: string): Promise<void>;
  readonly listening: ListenerInfo[];
  /** The core, for tests and in-process tools. */
  readonly core: Server;
}

export interface StartOptions {
  logger?: Logger;
  /** Warnings from config loading, printed loudly at startup. */
  warnings?: string[];
}

/**
 * Starts Hearth: storage, certificate, hosts with their modules, listeners; then logs a banner saying
 * what listens where. Resolves once every listener is bound.
 */
export async function startServer(config: HearthConfig, opts: StartOptions = {}): Promise<HearthServer> {
  const log = opts.logger ?? createLogger(config.log);
  const started = performance.now();
  const dataDir = resolve(config.data_dir);
  mkdirSync(dataDir, { recursive: true });

  const cert = await loadCertificate(config, log);
  const backend = await openStorage({ driver: config.storage.driver, path: join(dataDir, config.storage.sqlite_file) });
  // Every store call is timed for /metrics; the core reports the timings to whoever listens.
  let metrics: ServerMetrics | null = null;
  const storage = measuredStorage(backend, (t) => metrics?.storageTiming(t));
  const core = new Server(config, storage, log, { cert: cert.cert, key: cert.key, fingerprint: cert.fingerprint });
  metrics = core.metrics;
  try {
    for (const host of config.hosts) await core.addHost(host, "user", builtinModules);
    core.addListener(await startC2sListeners(core));
    core.addListener(await startComponentListener(core));
    // After the hosts, so routes that modules mounted on core.http are served from the first request.
    core.addListener(await startHttpListeners(core));
  } catch (err) {
    await core.stop("startup failed");
    throw err;
  }

  for (const w of opts.warnings ?? []) log.warn(`WARNING: ${w}`);
  log.info(
    {
      hosts: config.hosts,
      dataDir,
      storage: storage.kind,
      certificate: { source: cert.source, fingerprint: cert.fingerprint, names: cert.names },
      startupMs: Math.round(performance.now() - started),
    },
    `Hearth is running for ${config.hosts.join(", ")}`,
  );
  for (const l of core.listening) {
    log.info(`listening: ${l.name} on ${formatAddress(l.address)}:${l.port} (${describeTls(l.tls)})`);
  }
  if (cert.source !== "configured") {
    log.info(`self-signed certificate, SHA-256 fingerprint ${cert.fingerprint}: clients will ask you to accept it`);
  }

  return {
    stop: (reason) => core.stop(reason),
    get listening() {
      return core.listening;
    },
    core,
  };
}

function formatAddress(a: string): string {
  return a.includes(":") ? `[${a}]` : a;
}

function describeTls(t: ListenerInfo["tls"]): string {
  return t === "starttls" ? "STARTTLS" : t === "direct" ? "direct TLS" : "no TLS";
}
