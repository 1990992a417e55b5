import { sleep } from "../lib/clock.ts";
import { callAll } from "../lib/pool.ts";
import { connectAll, phasePlan, trafficPhase } from "./common.ts";
import type { BenchRecord, Column, Scenario, ScenarioContext } from "./types.ts";

const COLUMNS: Column[] = [
  { key: "msg_per_s", label: "delivered msg/s", better: "higher" },
  { key: "p50_ms", label: "p50 ms", better: "lower" },
  { key: "p99_ms", label: "p99 ms", better: "lower" },
  { key: "p999_ms", label: "p99.9 ms", better: "lower" },
  { key: "server_cpu_ms_per_msg", label: "server CPU ms/msg", better: "lower" },
  { key: "server_cpu_util", label: "server cores busy", better: "none" },
  { key: "client_cpu_util", label: "bench client cores busy", better: "none" },
];

/** Runs the max-rate and/or fixed-rate phases of 1:1 chat between random online users. */
async function runChat(ctx: ScenarioContext, scenario: string): Promise<BenchRecord[]> {
  const { opts } = ctx;
  const login = await connectAll(ctx, { rosterGet: false, presence: true });
  await sleep(opts.settleS * 1000);
  const records: BenchRecord[] = [];
  let maxRate = 0;
  let n = 0;
  for (const step of phasePlan(opts, 100)) {
    const rate = step.rate === "half" ? Math.max(1, maxRate / 2) : step.rate;
    const label = step.mode === "max" ? "max rate" : step.rate === "half" ? "half max rate" : `fixed ${rate}/s`;
    const rec = await trafficPhase(ctx, scenario, { phase: `c${n++}`, kind: "chat", mode: step.mode, rate, label });
    if (login.failed > 0) {
      rec.errors += login.failed;
      for (const [k, v] of Object.entries(login.errors)) rec.error_kinds[`login:${k}`] = v;
    }
    if (step.mode === "max") maxRate = rec.metrics.msg_per_s ?? 0;
    records.push(rec);
  }
  await callAll(ctx.agents, "disconnect");
  return records;
}

/**
 * chat: N online users send 1:1 messages (type chat, to bare JIDs) to random other users; the body carries the send
 * timestamp and a sequence number. Max rate keeps `inflight` messages circulating (each delivery triggers the next
 * send); fixed rate sends at a total rate (half the max just measured, and/or --rate).
 */
export const chat: Scenario = {
  name: "chat",
  summary: "1:1 messages between random online users: delivered msg/s, latency p50/p99/p99.9, lost, CPU per message",
  needs: { mam: false, muc: false, rosters: false },
  columns: COLUMNS,
  run: (ctx) => runChat(ctx, "chat"),
};

/** chat+mam: the chat scenario with the message archive (XEP-0313) on for every account. */
export const chatMam: Scenario = {
  name: "chat+mam",
  summary: "the chat scenario with message archiving on (XEP-0313, archive everything)",
  needs: { mam: true, muc: false, rosters: false },
  columns: COLUMNS,
  run: (ctx) => runChat(ctx, "chat+mam"),
};
