import { sleep } from "../lib/clock.ts";
import { callAll } from "../lib/pool.ts";
import { connectAll, newRecord, round, sampleServer } from "./common.ts";
import type { Scenario } from "./types.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/**
 * idle: N authenticated TLS sessions with initial presence, then nothing for the duration. Server RSS (VmRSS summed
 * over its process tree) before the logins and during the hold (median of the second half of the samples, which
 * damps garbage-collector swings) gives KB per session.
 */
export const idle: Scenario = {
  name: "idle",
  summary: "N idle authenticated TLS sessions: server RSS before/after → KB per session; idle CPU",
  needs: { mam: false, muc: false, rosters: false },
  columns: [
    { key: "kb_per_session", label: "KB/session", better: "lower" },
    { key: "rss_before_mb", label: "RSS empty MB", better: "lower" },
    { key: "rss_after_mb", label: "RSS with N MB", better: "lower" },
    { key: "server_cpu_ms_per_login", label: "server CPU ms/login", better: "lower" },
    { key: "idle_cpu_ms_per_s", label: "idle CPU ms/s", better: "lower" },
  ],
  async run(ctx) {
    const { opts } = ctx;
    const before = sampleServer(ctx.target);
    const login = await connectAll(ctx, { rosterGet: false, presence: true });
    const afterLogin = sampleServer(ctx.target);
    const samples: number[] = [];
    const holdStart = Date.now();
    const steps = Math.max(2, Math.round(opts.durationS));
    for (let s = 0; s < steps; s++) {
      await sleep((opts.durationS * 1000) / steps);
      const smp = sampleServer(ctx.target);
      if (smp !== undefined) samples.push(smp.rssKb);
    }
    const end = sampleServer(ctx.target);
    const online = (await callAll<number>(ctx.agents, "onlineCount")).reduce((a, b) => a + b, 0);
    const rssAfter = median(samples.slice(Math.floor(samples.length / 2)));
    const rec = newRecord(ctx, "idle", `${opts.users} sessions`);
    const known = before !== undefined && samples.length > 0;
    rec.metrics = {
      kb_per_session: known && login.ok > 0 ? round((rssAfter - before.rssKb) / login.ok, 1) : null,
      rss_before_mb: before ? round(before.rssKb / 1024, 1) : null,
      rss_after_mb: known ? round(rssAfter / 1024, 1) : null,
      rss_max_mb: known ? round(Math.max(...samples) / 1024, 1) : null,
      server_cpu_ms_per_login:
        before && afterLogin && login.ok > 0 ? round((afterLogin.cpuMs - before.cpuMs) / login.ok) : null,
      idle_cpu_ms_per_s:
        afterLogin && end ? round((end.cpuMs - afterLogin.cpuMs) / ((Date.now() - holdStart) / 1000), 1) : null,
      sessions: login.ok,
      still_online: online,
    };
    rec.errors = login.failed + (login.ok - online);
    rec.error_kinds = { ...login.errors };
    if (login.ok > online) rec.error_kinds["dropped-while-idle"] = login.ok - online;
    ctx.log(
      `  ${ctx.target.name}: ${rec.metrics.kb_per_session} KB/session (RSS ${rec.metrics.rss_before_mb} → ` +
        `${rec.metrics.rss_after_mb} MB), ${online} still online`,
    );
    return [rec];
  },
};
