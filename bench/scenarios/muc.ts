import type { LoginReport } from "../agent.ts";
import { sleep } from "../lib/clock.ts";
import { callAll } from "../lib/pool.ts";
import { addErrors, connectAll, mergeLogins, phasePlan, splitByUsers, trafficPhase } from "./common.ts";
import type { BenchRecord, Scenario, ScenarioContext } from "./types.ts";

async function joinRooms(ctx: ScenarioContext, roomSize: number) {
  const conc = splitByUsers(ctx.agents, Math.max(ctx.opts.concurrency, ctx.agents.length));
  const errors: Record<string, number> = {};
  let failed = 0;
  for (const owners of [true, false]) {
    const m = mergeLogins(
      await callAll<LoginReport>(ctx.agents, "mucJoin", (_a, i) => ({
        roomSize,
        owners,
        concurrency: Math.max(1, conc[i]!),
      })),
    );
    failed += m.failed;
    addErrors(errors, m.errors);
  }
  ctx.log(`  ${ctx.target.name}: rooms of ${roomSize} joined` + (failed > 0 ? `, ${failed} failed` : ""));
  return { failed, errors };
}

/**
 * muc: users join rooms of `roomSize` occupants (XEP-0045; the first user of each room creates it as an instant
 * room) and send groupchat messages to their room. Counts deliveries to occupants (sent × occupants expected, the
 * sender's own reflection included), latency and CPU per delivery. Max rate: each sender's own reflection triggers
 * its next message.
 */
export const muc: Scenario = {
  name: "muc",
  summary: "groupchat in rooms of --room-size occupants: deliveries/s to occupants, latency, CPU per delivery",
  needs: { mam: false, muc: true, rosters: false },
  columns: [
    { key: "deliveries_per_s", label: "deliveries/s", better: "higher" },
    { key: "sent_per_s", label: "room msgs/s", better: "higher" },
    { key: "p50_ms", label: "p50 ms", better: "lower" },
    { key: "p99_ms", label: "p99 ms", better: "lower" },
    { key: "server_cpu_ms_per_delivery", label: "server CPU ms/delivery", better: "lower" },
    { key: "server_cpu_util", label: "server cores busy", better: "none" },
    { key: "client_cpu_util", label: "bench client cores busy", better: "none" },
  ],
  async run(ctx) {
    if (ctx.target.mucDomain === undefined) throw new Error(`${ctx.target.name}: no MUC service`);
    const { opts } = ctx;
    const login = await connectAll(ctx, { rosterGet: false, presence: true });
    const records: BenchRecord[] = [];
    let n = 0;
    for (const roomSize of opts.roomSizes) {
      const joined = await joinRooms(ctx, roomSize);
      await sleep(opts.settleS * 1000);
      let maxRate = 0;
      // A fixed --rate is in deliveries/s for MUC, so one value means the same load for every room size.
      for (const step of phasePlan(opts, 1000)) {
        const rate = step.rate === "half" ? Math.max(1, maxRate / 2) : step.rate / roomSize;
        const what =
          step.mode === "max" ? "max rate" : step.rate === "half" ? "half max rate" : `${step.rate} deliveries/s`;
        const label = `rooms of ${roomSize}, ${what}`;
        const rec = await trafficPhase(ctx, "muc", { phase: `m${n++}`, kind: "muc", mode: step.mode, rate, label });
        if (step.mode === "max") maxRate = rec.metrics.sent_per_s ?? 0;
        const extra = login.failed + joined.failed;
        if (extra > 0) {
          rec.errors += extra;
          for (const [k, v] of Object.entries({ ...login.errors, ...joined.errors })) rec.error_kinds[`join:${k}`] = v;
        }
        rec.notes.push(`room size ${roomSize}`);
        records.push(rec);
      }
      await callAll(ctx.agents, "mucLeave");
      await sleep(2000);
    }
    await callAll(ctx.agents, "disconnect");
    return records;
  },
};
