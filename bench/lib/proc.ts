import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (proc(5)). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** `pid` and all its live descendants (servers started through wrapper scripts fork the real VM). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const f = statFields(child);
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [child]);
    else list.push(child);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (statFields(p) === undefined) continue;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Resource usage of a process tree at one instant. */
export interface ProcSample {
  /** utime + stime of all processes in the tree, in milliseconds (proc(5) fields 14 and 15). */
  cpuMs: number;
  /** Sum of VmRSS over the tree, in KiB. */
  rssKb: number;
  pids: number[];
}

/** Samples CPU time and resident memory of `pid` and its descendants. */
export function sampleProcess(pid: number): ProcSample {
  const pids = processTree(pid);
  const hz = ticksPerSecond();
  let ticks = 0;
  let rssKb = 0;
  for (const p of pids) {
    const f = statFields(p);
    if (f !== undefined) ticks += Number(f[11]) + Number(f[12]);
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) rssKb += Number(m[1]);
    } catch {
      // the process exited between listing and reading
    }
  }
  return { cpuMs: (ticks * 1000) / hz, rssKb, pids };
}

/** 1-minute load average and CPU count, recorded with each result to show how busy the box was. */
export function machineLoad(): { loadavg1: number; cpus: number } {
  const load = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  let cpus = 0;
  for (const line of readFileSync("/proc/cpuinfo", "utf8").split("\n")) if (line.startsWith("processor")) cpus++;
  return { loadavg1: load, cpus };
}
