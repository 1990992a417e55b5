import type { SaslChoice, TlsMode } from "./client/connection.ts";
import { startAgents } from "./lib/pool.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import type { BenchOptions, BenchRecord, Target } from "./scenarios/types.ts";

/** A quick correctness run of the scenarios against a server that is already running with its accounts. */
export interface SmokeOptions {
  /** Where the server listens; `pid` enables the RSS/CPU readings (not checked by the smoke test). */
  target: Partial<Target> & Pick<Target, "host" | "port" | "domain">;
  /** Accounts `${prefix}1..${users}` with `password` must exist. Default 4 users, prefix "bench". */
  users?: number;
  prefix?: string;
  password?: string;
  durationS?: number;
  /**
   * Default: login, idle, chat, presence (rosters built through subscriptions unless `target.rostersProvisioned`),
   * then muc if `target.mucDomain` is given.
   */
  scenarios?: string[];
  tls?: TlsMode;
  sasl?: SaslChoice;
  /** 0 (default) runs the load generator inside this process. */
  workers?: number;
  log?: (line: string) => void;
}

/** Outcome: `ok` is true when every scenario ran with 0 errors and 0 lost messages. */
export interface SmokeResult {
  ok: boolean;
  failures: string[];
  skipped: string[];
  records: BenchRecord[];
}

/** Defaults shared by the smoke run and the CLI. */
export const SMOKE_DEFAULTS = { users: 4, durationS: 2, prefix: "bench", password: "bench-pass-1" };

/**
 * Runs each scenario for a couple of seconds with a few connections and checks 0 errors and 0 lost messages.
 * CI wraps this (the harness must not rot); it measures nothing worth reading.
 */
export async function runSmoke(o: SmokeOptions): Promise<SmokeResult> {
  const users = o.users ?? SMOKE_DEFAULTS.users;
  const target: Target = {
    name: o.target.name ?? "server",
    version: o.target.version ?? "",
    host: o.target.host,
    port: o.target.port,
    domain: o.target.domain,
    mucDomain: o.target.mucDomain,
    pid: o.target.pid,
    rostersProvisioned: o.target.rostersProvisioned ?? false,
    notes: o.target.notes ?? [],
  };
  const opts: BenchOptions = {
    users,
    durationS: o.durationS ?? SMOKE_DEFAULTS.durationS,
    workers: o.workers ?? 0,
    concurrency: users,
    loginRate: 0,
    mode: "both",
    rate: 10 * users,
    inflight: users,
    drainS: 5,
    settleS: 0.2,
    roomSizes: [Math.max(2, Math.ceil(users / 2))],
    rosterSize: users - 1,
    rostersByProtocol: false,
    tls: o.tls ?? "starttls",
    sasl: o.sasl ?? "auto",
    prefix: o.prefix ?? SMOKE_DEFAULTS.prefix,
    password: o.password ?? SMOKE_DEFAULTS.password,
    domain: o.target.domain,
    timeoutMs: 10_000,
  };
  const wanted = o.scenarios ?? ["login", "idle", "chat", "presence", "muc"];
  const log = o.log ?? (() => {});
  const result: SmokeResult = { ok: true, failures: [], skipped: [], records: [] };
  for (const name of wanted) {
    const scenario = SCENARIOS[name];
    if (scenario === undefined) throw new Error(`unknown scenario ${name}`);
    if (scenario.needs.muc && target.mucDomain === undefined) {
      result.skipped.push(`${name}: no MUC domain`);
      continue;
    }
    log(`smoke ${name} on ${target.name}`);
    const agents = await startAgents(opts.workers, {
      host: target.host,
      port: target.port,
      domain: target.domain,
      mucDomain: target.mucDomain,
      tls: opts.tls,
      sasl: opts.sasl,
      prefix: opts.prefix,
      password: opts.password,
      totalUsers: users,
      timeoutMs: opts.timeoutMs,
    });
    try {
      const records = await scenario.run({ opts, target, agents, log });
      result.records.push(...records);
      for (const r of records) {
        if (r.errors > 0 || r.lost > 0) {
          result.failures.push(`${name} / ${r.phase}: lost ${r.lost}, errors ${JSON.stringify(r.error_kinds)}`);
        }
      }
      if (records.length === 0) result.failures.push(`${name}: no result`);
    } catch (err) {
      result.failures.push(`${name}: ${(err as Error).message}`);
    } finally {
      await Promise.all(agents.map((a) => a.close()));
    }
  }
  result.ok = result.failures.length === 0;
  return result;
}
