import type { LoginReport } from "../agent.ts";
import { summarize } from "../lib/histogram.ts";
import { callAll } from "../lib/pool.ts";
import { cpuPer, cpuUtil, mergeLogins, newRecord, round, sampleServer, splitByUsers } from "./common.ts";
import type { Scenario } from "./types.ts";

/**
 * login: `concurrency` clients loop connect → STARTTLS → SASL → bind → initial presence (until reflected) → close,
 * over the accounts, for the duration. Measures completed logins/s, login latency and server CPU per login.
 */
export const login: Scenario = {
  name: "login",
  summary: "login+logout cycles: TCP, STARTTLS, SASL, bind, initial presence; logins/s, latency, CPU per login",
  needs: { mam: false, muc: false, rosters: false },
  columns: [
    { key: "logins_per_s", label: "logins/s", better: "higher" },
    { key: "p50_ms", label: "login p50 ms", better: "lower" },
    { key: "p99_ms", label: "login p99 ms", better: "lower" },
    { key: "server_cpu_ms_per_login", label: "server CPU ms/login", better: "lower" },
    { key: "server_cpu_util", label: "server cores busy", better: "none" },
    { key: "client_cpu_util", label: "bench client cores busy", better: "none" },
  ],
  async run(ctx) {
    const { agents, opts } = ctx;
    const conc = splitByUsers(agents, Math.min(opts.concurrency, opts.users));
    const before = sampleServer(ctx.target);
    const reports = await callAll<LoginReport>(agents, "loginLoop", (_a, i) => ({
      concurrency: Math.max(1, conc[i]!),
      durationMs: opts.durationS * 1000,
      presence: true,
    }));
    const after = sampleServer(ctx.target);
    const m = mergeLogins(reports);
    const seconds = m.elapsedMs / 1000;
    const lat = summarize(m.latency);
    const ms = (v: number) => (m.ok > 0 ? v : null);
    const rec = newRecord(ctx, "login", `${opts.concurrency} concurrent`);
    rec.metrics = {
      logins_per_s: round(m.ok / seconds, 1),
      p50_ms: ms(lat.p50_ms),
      p99_ms: ms(lat.p99_ms),
      p999_ms: ms(lat.p999_ms),
      server_cpu_ms_per_login: cpuPer(before, after, m.ok),
      server_cpu_util: cpuUtil(before, after, seconds),
      client_cpu_util: round(m.clientCpuMs / (seconds * 1000), 2),
      logins: m.ok,
    };
    rec.errors = m.failed;
    rec.error_kinds = m.errors;
    rec.notes.push(`SASL ${Object.keys(m.mechanisms).join("/")}`);
    ctx.log(`  ${ctx.target.name}: ${rec.metrics.logins_per_s} logins/s, p99 ${lat.p99_ms} ms, errors ${m.failed}`);
    return [rec];
  },
};
