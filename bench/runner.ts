import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "./lib/clock.ts";
import { startAgents } from "./lib/pool.ts";
import { machineLoad } from "./lib/proc.ts";
import { PEERS } from "./peers/index.ts";
import type { RunningPeer } from "./peers/types.ts";
import type { BenchOptions, BenchRecord, Scenario, Target } from "./scenarios/types.ts";

/** How to run one scenario against a list of servers. */
export interface RunPlan {
  scenario: Scenario;
  /** Peer names (`hearth`, `prosody`, `ejabberd`) or `external` for `external`. */
  servers: string[];
  opts: BenchOptions;
  workDir: string;
  certFile: string;
  keyFile: string;
  hearthArgs: string[];
  hearthNodeArgs: string[];
  /** An already running server (accounts must exist), used for the name `external`. */
  external?: Target;
  log: (line: string) => void;
}

function targetOf(peer: RunningPeer): Target {
  return {
    name: peer.name,
    version: peer.version,
    host: peer.host,
    port: peer.port,
    domain: peer.domain,
    mucDomain: peer.mucDomain,
    pid: peer.pid,
    rostersProvisioned: peer.rostersProvisioned,
    notes: peer.notes,
  };
}

/** A record standing for a server on which the scenario could not run at all. */
function failedRecord(plan: RunPlan, server: string, message: string): BenchRecord {
  return {
    scenario: plan.scenario.name,
    phase: "(failed)",
    server,
    version: "",
    users: plan.opts.users,
    duration_s: plan.opts.durationS,
    metrics: {},
    errors: 1,
    error_kinds: { [message.split("\n")[0]!.slice(0, 200)]: 1 },
    lost: 0,
    notes: [],
    started_at: new Date().toISOString(),
    loadavg1: machineLoad().loadavg1,
  };
}

/**
 * Runs `plan.scenario` against each server in turn, each on a fresh instance (new data dir: PEERS.md, stores must
 * not carry over), and always stops what it started.
 */
export async function runScenario(plan: RunPlan): Promise<BenchRecord[]> {
  const { scenario, opts } = plan;
  const records: BenchRecord[] = [];
  for (const server of plan.servers) {
    plan.log(`${scenario.name} on ${server}: starting`);
    let peer: RunningPeer | undefined;
    let target: Target;
    try {
      if (server === "external") {
        if (plan.external === undefined) throw new Error("no --target given");
        target = plan.external;
      } else {
        const p = PEERS[server];
        if (p === undefined) throw new Error(`unknown server ${server} (known: ${Object.keys(PEERS).join(", ")})`);
        const dir = join(plan.workDir, `${scenario.name.replace(/\W/g, "_")}-${server}`);
        mkdirSync(dir, { recursive: true });
        peer = await p.start({
          users: opts.users,
          prefix: opts.prefix,
          password: opts.password,
          domain: opts.domain,
          mam: scenario.needs.mam,
          muc: scenario.needs.muc,
          rosterSize: scenario.needs.rosters && !opts.rostersByProtocol ? opts.rosterSize : 0,
          workDir: dir,
          certFile: plan.certFile,
          keyFile: plan.keyFile,
          sasl: opts.sasl,
          extraArgs: server === "hearth" ? plan.hearthArgs : [],
          nodeArgs: server === "hearth" ? plan.hearthNodeArgs : [],
          log: plan.log,
        });
        target = targetOf(peer);
        plan.log(
          `  ${server} ${peer.version} pid ${peer.pid} on ${peer.host}:${peer.port} (setup ${peer.setupSeconds} s)`,
        );
        await sleep(opts.settleS * 1000); // let start-up work (JIT, GC, caches) finish before the baseline
      }
    } catch (err) {
      plan.log(`  ${server}: could not start: ${(err as Error).message}`);
      await peer?.stop();
      records.push(failedRecord(plan, server, `start: ${(err as Error).message}`));
      continue;
    }
    const agents = await startAgents(opts.workers, {
      host: target.host,
      port: target.port,
      domain: target.domain,
      mucDomain: target.mucDomain,
      tls: opts.tls,
      sasl: opts.sasl,
      prefix: opts.prefix,
      password: opts.password,
      totalUsers: opts.users,
      timeoutMs: opts.timeoutMs,
    });
    try {
      records.push(...(await scenario.run({ opts, target, agents, log: plan.log })));
    } catch (err) {
      plan.log(`  ${server}: ${scenario.name} failed: ${(err as Error).message}`);
      records.push(failedRecord(plan, server, (err as Error).message));
    } finally {
      await Promise.all(agents.map((a) => a.close()));
      if (peer !== undefined) {
        await peer.stop();
        plan.log(`  ${server} stopped`);
      }
    }
  }
  return records;
}
