/**
 * Hearth benchmark harness: runs a scenario against Hearth, Prosody and ejabberd in turn, on this machine, in one
 * run, and prints/writes the side-by-side table (with ratios) and a chart. `tsx bench/run.ts --help` for usage.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.ts";
import type { SaslChoice, TlsMode } from "./client/connection.ts";
import { machineLoad } from "./lib/proc.ts";
import { type CertType, selfSignedCert } from "./peers/cert.ts";
import { PEERS } from "./peers/index.ts";
import type { RunningPeer } from "./peers/types.ts";
import { errorSummary, markdownTable, tableRows, textTable } from "./report.ts";
import { runScenario } from "./runner.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import type { BenchOptions, BenchRecord, Target } from "./scenarios/types.ts";
import { runSmoke, SMOKE_DEFAULTS } from "./smoke.ts";

const HELP = `Usage: tsx bench/run.ts [options]      (npm run bench -- [options])

Runs a load scenario against each server in turn (fresh instance, private config and data dir, loopback ports,
self-signed certificate, bulk-created accounts), prints a table with the ratios first-server/other, writes
bench/results/<date>-<scenario>.json (+ .md table, + .png chart via gnuplot) and one JSON line per scenario.

Scenarios (--scenario, comma-separated, or "all"):
${Object.values(SCENARIOS)
  .map((s) => `  ${s.name.padEnd(10)} ${s.summary}`)
  .join("\n")}

Servers (--servers, comma-separated, run in this order; the first is the numerator of the ratios):
  hearth     this repository (node --import tsx src/cli/main.ts start ...)
  prosody    Debian prosody (installed with apt-get if missing)
  ejabberd   Debian ejabberd (installed with apt-get if missing)
  external   an already running server given by --target (its accounts must exist)

Load options:
  --users N            accounts/connections (default 200)
  --duration S         seconds per measured phase (default 10)
  --workers N          load-generator processes (default 1; 0 = inside this process)
  --concurrency N      logins in flight at once; login/presence: clients looping (default 50)
  --login-rate N       pace the initial logins to N/s in total (default 0 = unpaced)
  --mode M             chat/muc: max | rate | both (default both: max rate, then fixed at half of that max,
                       then fixed at --rate when given: one common rate compares CPU per message like for like)
  --rate N             fixed rate in total: chat messages/s, muc deliveries/s (--mode rate: default 100 and 1000)
  --inflight N         max-rate mode: messages circulating (each delivery triggers the next send; default 100)
  --drain S            wait up to S seconds for in-flight deliveries before counting losses (default 10)
  --settle S           pause after server start and after logins (default 2)
  --room-size N[,N..]  muc: occupants per room (default 10)
  --roster-size N      presence: contacts per roster (default 50)
  --rosters-by-protocol  presence: build the rosters with subscription requests even where the server can import
                       them (servers without an import, like Hearth, always get them this way)
  --sasl M             auto | PLAIN | SCRAM-SHA-1 | SCRAM-SHA-256 (default auto: strongest offered SCRAM)
  --no-tls             plain TCP instead of STARTTLS (only where the server allows it)
  --cert-type T        rsa | ec: the self-signed certificate given to every server (default rsa, 2048 bits)
  --prefix P           account names P1..PN (default ${SMOKE_DEFAULTS.prefix})
  --password P         password of every account (default ${SMOKE_DEFAULTS.password})
  --domain D           XMPP domain (default localhost)
  --timeout MS         per-login timeout (default 30000)

Servers and output:
  --servers LIST       default hearth,prosody,ejabberd
  --hearth-args="..."  extra arguments for "hearth start" (use the = form: the value starts with a dash)
  --hearth-node-args="..."  Node.js options for the Hearth process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --target HOST:PORT   the "external" server; --target-pid PID enables RSS/CPU readings,
  --target-name NAME   --target-muc DOMAIN, --target-rosters (accounts have rosters of --roster-size)
  --out DIR            results directory (default bench/results); --no-write to write nothing
  --no-chart           skip the PNG
  --keep               keep the temporary work dir (configs, data, server logs)
  --smoke              CI check: a few connections, a few seconds per scenario, against each server;
                       exit 1 unless every scenario ran with 0 errors and 0 lost messages
  -h, --help           this text

Measurements: server CPU = utime+stime of the server's process tree (/proc/<pid>/stat), RSS = VmRSS summed over
it (/proc/<pid>/status). Latency is end to end (send timestamp in the body, CLOCK_MONOTONIC shared by processes).
The machines are shared and noisy: compare ratios from one run, not absolute numbers across runs.
`;

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

function num(v: string | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} needs a non-negative number, got ${v}`);
  return n;
}

function parseCli() {
  try {
    return parseArgs({ options: OPTIONS, strict: true });
  } catch (err) {
    fail((err as Error).message);
  }
}

const OPTIONS = {
  scenario: { type: "string" },
  servers: { type: "string" },
  users: { type: "string" },
  duration: { type: "string" },
  workers: { type: "string" },
  concurrency: { type: "string" },
  "login-rate": { type: "string" },
  mode: { type: "string" },
  rate: { type: "string" },
  inflight: { type: "string" },
  drain: { type: "string" },
  settle: { type: "string" },
  "room-size": { type: "string" },
  "roster-size": { type: "string" },
  "rosters-by-protocol": { type: "boolean" },
  sasl: { type: "string" },
  "no-tls": { type: "boolean" },
  "cert-type": { type: "string" },
  prefix: { type: "string" },
  password: { type: "string" },
  domain: { type: "string" },
  timeout: { type: "string" },
  "hearth-args": { type: "string" },
  "hearth-node-args": { type: "string" },
  target: { type: "string" },
  "target-pid": { type: "string" },
  "target-name": { type: "string" },
  "target-muc": { type: "string" },
  "target-rosters": { type: "boolean" },
  out: { type: "string" },
  "no-write": { type: "boolean" },
  "no-chart": { type: "boolean" },
  keep: { type: "boolean" },
  smoke: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const { values } = parseCli();

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(line + "\n");
const mode = values.mode ?? "both";
if (mode !== "max" && mode !== "rate" && mode !== "both") fail(`--mode must be max, rate or both`);
const sasl = (values.sasl ?? "auto") as SaslChoice;
if (!["auto", "PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"].includes(sasl)) fail(`unknown --sasl ${sasl}`);
const certType = (values["cert-type"] ?? "rsa") as CertType;
if (certType !== "rsa" && certType !== "ec") fail("--cert-type must be rsa or ec");

const opts: BenchOptions = {
  users: Math.max(2, Math.floor(num(values.users, 200, "users"))),
  durationS: num(values.duration, 10, "duration"),
  workers: Math.floor(num(values.workers, 1, "workers")),
  concurrency: Math.max(1, Math.floor(num(values.concurrency, 50, "concurrency"))),
  loginRate: num(values["login-rate"], 0, "login-rate"),
  mode,
  rate: num(values.rate, 0, "rate"),
  inflight: Math.max(1, Math.floor(num(values.inflight, 100, "inflight"))),
  drainS: num(values.drain, 10, "drain"),
  settleS: num(values.settle, 2, "settle"),
  roomSizes: (values["room-size"] ?? "10").split(",").map((s) => Math.max(2, Math.floor(num(s, 10, "room-size")))),
  rosterSize: Math.floor(num(values["roster-size"], 50, "roster-size")),
  rostersByProtocol: values["rosters-by-protocol"] ?? false,
  tls: (values["no-tls"] ? "none" : "starttls") as TlsMode,
  sasl,
  prefix: values.prefix ?? SMOKE_DEFAULTS.prefix,
  password: values.password ?? SMOKE_DEFAULTS.password,
  domain: values.domain ?? "localhost",
  timeoutMs: num(values.timeout, 30_000, "timeout"),
};

if (opts.rosterSize % 2 === 1 && opts.rosterSize < opts.users - 1) {
  opts.rosterSize -= 1; // ring rosters are only symmetric with an even size (peers/types.ts rosterOf)
  log(`--roster-size rounded down to ${opts.rosterSize}`);
}

const servers = (values.servers ?? (values.target ? "external" : "hearth,prosody,ejabberd"))
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
let external: Target | undefined;
if (values.target !== undefined) {
  const m = /^(.+):(\d+)$/.exec(values.target);
  if (!m) fail("--target must be HOST:PORT");
  external = {
    name: values["target-name"] ?? "external",
    version: "",
    host: m[1]!,
    port: Number(m[2]),
    domain: opts.domain,
    mucDomain: values["target-muc"],
    pid: values["target-pid"] ? Number(values["target-pid"]) : undefined,
    rostersProvisioned: values["target-rosters"] ?? false,
    notes: [],
  };
}
const scenarioNames =
  values.scenario === "all" ? Object.keys(SCENARIOS) : (values.scenario ?? "chat").split(",").map((s) => s.trim());
for (const s of scenarioNames) if (SCENARIOS[s] === undefined) fail(`unknown scenario ${s}`);

const benchDir = resolve(fileURLToPath(import.meta.url), "..");
const outDir = values.out ?? join(benchDir, "results");
const workDir = mkdtempSync(join(tmpdir(), "hearth-bench-"));
const cert = selfSignedCert(workDir, opts.domain, certType);
const hearthArgs = values["hearth-args"]?.split(/\s+/).filter(Boolean) ?? [];
const hearthNodeArgs = values["hearth-node-args"]?.split(/\s+/).filter(Boolean) ?? [];

function cpuModel(): string {
  return cpus()[0]?.model ?? "unknown";
}

/** `<out>/<date>-<name>.<ext>`, with -2, -3... when a run of the same day exists already. */
function resultBase(name: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const safe = name.replace(/[^\w+.-]/g, "_");
  let base = join(outDir, `${date}-${safe}`);
  for (let k = 2; existsSync(base + ".json"); k++) base = join(outDir, `${date}-${safe}-${k}`);
  return base;
}

async function smoke(): Promise<number> {
  let failed = false;
  for (const server of servers) {
    let peer: RunningPeer | undefined;
    let target = external;
    try {
      if (server !== "external") {
        const p = PEERS[server];
        if (p === undefined) throw new Error(`unknown server ${server}`);
        const dir = join(workDir, `smoke-${server}`);
        mkdirSync(dir, { recursive: true });
        peer = await p.start({
          users: SMOKE_DEFAULTS.users,
          prefix: opts.prefix,
          password: opts.password,
          domain: opts.domain,
          mam: true,
          muc: true,
          rosterSize: SMOKE_DEFAULTS.users - 1,
          workDir: dir,
          ...cert,
          sasl: opts.sasl,
          extraArgs: server === "hearth" ? hearthArgs : [],
          nodeArgs: server === "hearth" ? hearthNodeArgs : [],
          log,
        });
        target = { ...peer, pid: peer.pid };
      }
      if (target === undefined) throw new Error("no --target given");
      const r = await runSmoke({
        target,
        prefix: opts.prefix,
        password: opts.password,
        tls: opts.tls,
        sasl: opts.sasl,
        log,
      });
      log(`${server}: ${r.ok ? "OK" : "FAILED"}` + (r.skipped.length ? ` (skipped: ${r.skipped.join("; ")})` : ""));
      for (const f of r.failures) log(`  ${f}`);
      failed ||= !r.ok;
    } catch (err) {
      log(`${server}: FAILED: ${(err as Error).message}`);
      failed = true;
    } finally {
      await peer?.stop();
    }
  }
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  if (values.smoke) return smoke();
  const machine = { ...machineLoad(), cpu_model: cpuModel(), node: process.version };
  log(`work dir ${workDir}; ${machine.cpus} × ${machine.cpu_model}, load ${machine.loadavg1}`);
  for (const name of scenarioNames) {
    const scenario = SCENARIOS[name]!;
    const records: BenchRecord[] = await runScenario({
      scenario,
      servers,
      opts,
      workDir,
      ...cert,
      hearthArgs,
      hearthNodeArgs,
      external,
      log,
    });
    const title =
      `${scenario.name}: ${opts.users} users, ${opts.durationS} s/phase, ` +
      `${opts.tls === "none" ? "no TLS" : "STARTTLS"}, SASL ${opts.sasl}, ${opts.workers} worker(s)`;
    const rows = tableRows(
      records,
      servers.map((s) => (s === "external" ? (external?.name ?? s) : s)),
      scenario.columns,
    );
    process.stdout.write(`\n${title}\n${textTable(rows)}\n`);
    for (const line of errorSummary(records)) process.stdout.write(`  ! ${line}\n`);
    const doc = { scenario: scenario.name, date: new Date().toISOString(), machine, options: opts, servers, records };
    process.stdout.write(JSON.stringify(doc) + "\n");
    if (!values["no-write"]) {
      mkdirSync(outDir, { recursive: true });
      const base = resultBase(scenario.name);
      writeFileSync(base + ".json", JSON.stringify(doc, null, 2) + "\n");
      writeFileSync(base + ".md", `${title}\n\n${markdownTable(rows)}\n`);
      log(`wrote ${base}.json, ${base}.md`);
      if (!values["no-chart"]) {
        const err = renderChart(title, records, servers, scenario.columns, base + ".png");
        log(err ?? `wrote ${base}.png`);
      }
    }
  }
  return 0;
}

const code = await main().catch((err) => {
  log(`bench: ${(err as Error).stack ?? err}`);
  return 2;
});
if (!values.keep) rmSync(workDir, { recursive: true, force: true });
else log(`kept ${workDir}`);
process.exit(code);
