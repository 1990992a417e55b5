import type { SaslChoice, TlsMode } from "../client/connection.ts";
import type { AgentHandle } from "../lib/pool.ts";

/** Knobs shared by all scenarios (see `bench/run.ts --help`). */
export interface BenchOptions {
  users: number;
  durationS: number;
  workers: number;
  /** Logins in flight at once (all agents together). */
  concurrency: number;
  /** Login pacing for the initial connect of chat/idle/presence/muc (0 = as fast as `concurrency` allows). */
  loginRate: number;
  mode: "max" | "rate" | "both";
  /** Fixed-rate mode: messages per second in total (0 = half the measured max, or 100 without a max phase). */
  rate: number;
  /** Max-rate mode: messages in flight in total (each delivery triggers the next send). */
  inflight: number;
  drainS: number;
  settleS: number;
  roomSizes: number[];
  rosterSize: number;
  /** presence: build rosters through subscriptions even when the peer can import them (slower; tests the path). */
  rostersByProtocol: boolean;
  tls: TlsMode;
  sasl: SaslChoice;
  prefix: string;
  password: string;
  domain: string;
  timeoutMs: number;
}

/** The server under test, as the scenarios see it. */
export interface Target {
  name: string;
  version: string;
  host: string;
  port: number;
  domain: string;
  mucDomain: string | undefined;
  /** Root PID of the server's process tree, when known: enables RSS and CPU measurements. */
  pid: number | undefined;
  rostersProvisioned: boolean;
  notes: string[];
}

/** One result row: a scenario phase against one server. */
export interface BenchRecord {
  scenario: string;
  phase: string;
  server: string;
  version: string;
  users: number;
  duration_s: number;
  /** Measured values; null when not measurable (e.g. no server PID). Units are in the key names. */
  metrics: Record<string, number | null>;
  errors: number;
  error_kinds: Record<string, number>;
  /** Messages sent but never delivered after the drain period (chat, muc); must be 0. */
  lost: number;
  notes: string[];
  started_at: string;
  loadavg1: number;
}

/** What a scenario gets to run. */
export interface ScenarioContext {
  opts: BenchOptions;
  target: Target;
  agents: AgentHandle[];
  log: (line: string) => void;
}

/** A metric shown in tables and charts; `better` drives the ratio wording. */
export interface Column {
  key: string;
  label: string;
  better: "higher" | "lower" | "none";
}

/** A benchmark scenario. */
export interface Scenario {
  name: string;
  summary: string;
  /** Server features the peer must be started with. */
  needs: { mam: boolean; muc: boolean; rosters: boolean };
  columns: Column[];
  run(ctx: ScenarioContext): Promise<BenchRecord[]>;
}
