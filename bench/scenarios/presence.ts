import type { TrafficReport } from "../agent.ts";
import { sleep } from "../lib/clock.ts";
import { summarize } from "../lib/histogram.ts";
import { callAll } from "../lib/pool.ts";
import { rosterOf } from "../peers/types.ts";
import { connectAll, cpuPer, mergeTraffic, newRecord, round, sampleServer, splitByUsers } from "./common.ts";
import type { BenchRecord, Scenario, ScenarioContext } from "./types.ts";

/** Subscribes every ring pair through the protocol (for servers without a roster import, e.g. Hearth). */
async function provisionByProtocol(ctx: ScenarioContext): Promise<void> {
  const { agents, opts } = ctx;
  const t0 = Date.now();
  await connectAll(ctx, { rosterGet: true, presence: true });
  const res = await callAll<{ got: number; want: number }>(agents, "provisionRosters", (a) => {
    const contacts: number[][] = [];
    for (let u = a.init.firstUser; u <= a.init.lastUser; u++) contacts.push(rosterOf(u, opts.users, opts.rosterSize));
    return { contacts, stallMs: 15_000 };
  });
  await callAll(agents, "disconnect");
  const got = res.reduce((s, r) => s + r.got, 0);
  const want = res.reduce((s, r) => s + r.want, 0);
  ctx.log(
    `  ${ctx.target.name}: rosters subscribed through the protocol, ${got}/${want} in ${(Date.now() - t0) / 1000} s`,
  );
  if (got < want) throw new Error(`roster provisioning incomplete: ${got}/${want} subscriptions approved`);
}

/**
 * presence: every user has a roster of `rosterSize` contacts (subscription both). All log in (roster get + initial
 * presence: probes and broadcasts), then `concurrency` users at a time go unavailable, disconnect and log in again
 * for the duration. Measures presence stanzas delivered to clients per second (fan-out), broadcast latency and server
 * CPU per delivered presence. Rosters come from the peer's bulk import, or else are built through the protocol.
 */
export const presence: Scenario = {
  name: "presence",
  summary: "users with rosters of 50 contacts logging out and in: presence fan-out/s, latency, CPU per presence",
  needs: { mam: false, muc: false, rosters: true },
  columns: [
    { key: "presence_per_s", label: "presences delivered/s", better: "higher" },
    { key: "cycles_per_s", label: "logout+login/s", better: "higher" },
    { key: "p50_ms", label: "p50 ms", better: "lower" },
    { key: "p99_ms", label: "p99 ms", better: "lower" },
    { key: "server_cpu_ms_per_presence", label: "server CPU ms/presence", better: "lower" },
  ],
  async run(ctx) {
    const { agents, opts } = ctx;
    if (!ctx.target.rostersProvisioned) await provisionByProtocol(ctx);
    const records: BenchRecord[] = [];

    await callAll(agents, "beginPhase", { phase: "p-login", kind: "presence" });
    let before = sampleServer(ctx.target);
    const login = await connectAll(ctx, { rosterGet: true, presence: true });
    await sleep(opts.settleS * 1000);
    let t = mergeTraffic(await callAll<TrafficReport>(agents, "stats"));
    let after = sampleServer(ctx.target);
    const loginRec = newRecord(ctx, "presence", "all log in");
    loginRec.metrics = {
      presence_per_s: round(t.presenceIn / (login.elapsedMs / 1000), 1),
      cycles_per_s: round(login.ok / (login.elapsedMs / 1000), 1),
      p50_ms: summarize(t.latency).p50_ms,
      p99_ms: summarize(t.latency).p99_ms,
      server_cpu_ms_per_presence: cpuPer(before, after, t.presenceIn),
      presences: t.presenceIn,
    };
    loginRec.errors = login.failed;
    loginRec.error_kinds = login.errors;
    records.push(loginRec);

    await callAll(agents, "beginPhase", { phase: "p-churn", kind: "presence" });
    before = sampleServer(ctx.target);
    const t0 = Date.now();
    const conc = splitByUsers(agents, Math.min(opts.concurrency, opts.users));
    await callAll(agents, "presenceChurn", (_a, i) => ({
      concurrency: Math.max(1, conc[i]!),
      durationMs: opts.durationS * 1000,
    }));
    const seconds = (Date.now() - t0) / 1000;
    t = mergeTraffic(await callAll<TrafficReport>(agents, "stats"));
    await sleep(1000); // let the last broadcasts arrive before measuring CPU
    t = mergeTraffic(await callAll<TrafficReport>(agents, "stats"));
    after = sampleServer(ctx.target);
    const lat = summarize(t.latency);
    const rec = newRecord(ctx, "presence", "churn");
    rec.metrics = {
      presence_per_s: round(t.presenceIn / seconds, 1),
      cycles_per_s: round(t.cycles / seconds, 1),
      p50_ms: lat.p50_ms,
      p99_ms: lat.p99_ms,
      server_cpu_ms_per_presence: cpuPer(before, after, t.presenceIn),
      presences: t.presenceIn,
      cycles: t.cycles,
    };
    rec.error_kinds = t.errors;
    rec.errors = Object.values(t.errors).reduce((s, v) => s + v, 0);
    rec.notes.push(`roster ${opts.rosterSize} contacts`);
    ctx.log(
      `  ${ctx.target.name} churn: ${rec.metrics.presence_per_s} presences/s, ${rec.metrics.cycles_per_s} cycles/s, ` +
        `p99 ${lat.p99_ms} ms, errors ${rec.errors}`,
    );
    records.push(rec);
    await callAll(agents, "disconnect");
    return records;
  },
};
