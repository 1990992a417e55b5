import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountManager } from "../../src/accounts/manager.ts";
import { buildConfig, type ConfigOverrides } from "../../src/config/load.ts";
import type { HearthConfig } from "../../src/config/types.ts";
import { createLogger, type LogDestination } from "../../src/log.ts";
import { type HearthServer, startServer } from "../../src/server.ts";
import { openStorage } from "../../src/storage/open.ts";

export interface TestServerOptions {
  hosts?: string[];
  /** Accounts to create before starting: [jid, password]. */
  users?: [string, string][];
  /** Config overrides (sections merge key by key). */
  config?: ConfigOverrides;
  /** Reuse a data dir (to test persistence across instances). */
  dataDir?: string;
  /** Receives the server's log lines (JSON, one per write); set `config.log.level` to choose what is logged. */
  logDestination?: LogDestination;
}

/** A real Hearth instance on ephemeral loopback ports with a temporary data dir. */
export interface TestServer {
  readonly server: HearthServer;
  readonly config: HearthConfig;
  readonly dataDir: string;
  readonly domain: string;
  /** STARTTLS c2s port. */
  readonly c2sPort: number;
  /** Direct TLS c2s port (XEP-0368). */
  readonly tlsPort: number;
  /** XEP-0114 component port (0 when no component is configured). */
  readonly componentPort: number;
  /** Stops the instance and starts a new one on the same data dir (new ports). */
  restart(): Promise<TestServer>;
  /** Stops the server and deletes the data dir. */
  stop(): Promise<void>;
}

// Fast tests: the minimum iteration count the config accepts.
const TEST_ITERATIONS = 4096;

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "hearth-test-"));
  const hosts = opts.hosts ?? ["localhost"];
  const o = opts.config ?? {};
  const config = buildConfig({
    ...o,
    hosts,
    data_dir: dataDir,
    log: { level: (process.env.HEARTH_TEST_LOG as HearthConfig["log"]["level"]) ?? "silent", format: "json", ...o.log },
    c2s: { interfaces: ["127.0.0.1"], port: 0, tls_port: 0, ...o.c2s },
    http: { interfaces: ["127.0.0.1"], port: -1, tls_port: -1, ...o.http },
    component_listener: { interfaces: ["127.0.0.1"], port: 0, ...o.component_listener },
    auth: { scram_iterations: TEST_ITERATIONS, ...o.auth },
  });
  if (opts.users?.length) {
    const storage = await openStorage({ driver: "sqlite", path: join(dataDir, config.storage.sqlite_file) });
    const accounts = new AccountManager(storage, { iterations: config.auth.scram_iterations, hosts: config.hosts });
    for (const [jid, password] of opts.users) await accounts.create(jid, password);
    await storage.close();
  }
  const server = await startServer(config, { logger: createLogger(config.log, opts.logDestination) });
  const port = (name: string) => server.listening.find((l) => l.name === name)?.port ?? 0;
  let stopped = false;
  let handedOver = false;
  const ts: TestServer = {
    server,
    config,
    dataDir,
    domain: hosts[0] as string,
    c2sPort: port("c2s"),
    tlsPort: port("c2s-direct-tls"),
    componentPort: port("component"),
    async restart() {
      stopped = true;
      handedOver = true;
      await server.stop("restart");
      return startTestServer({ ...opts, users: [], dataDir });
    },
    async stop() {
      if (!stopped) await server.stop("test done");
      stopped = true;
      // After restart() the data dir belongs to the new instance.
      if (!handedOver) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return ts;
}
