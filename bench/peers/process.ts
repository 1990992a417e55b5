import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { sleep } from "../lib/clock.ts";
import { processTree } from "../lib/proc.ts";

/** A server process started in its own process group, so wrapper scripts and their children stop together. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  exited: boolean;
  stop(): Promise<void>;
}

const live = new Set<ServerProcess>();
let hooked = false;

/** Last-resort cleanup: never leave a server running when the bench exits or is interrupted. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const p of live) killGroup(p.pid, "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      for (const p of live) killGroup(p.pid, "SIGKILL");
      process.exit(130);
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the group we created with `detached`; its leader is our child
  } catch {
    // already gone
  }
}

/** Starts `cmd` detached (new process group), output appended to `logFile`. */
export function startServer(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; logFile: string },
): ServerProcess {
  hookExit();
  const out = openSync(opts.logFile, "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ["ignore", out, out],
  });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  const proc: ServerProcess = {
    child,
    pid,
    exited: false,
    async stop() {
      if (!proc.exited) {
        // Signal the real server, not the wrapper script: the wrapper then reaps it and exits itself. Killing the
        // wrapper first would orphan the server to PID 1, which on these machines never reaps it (a zombie).
        const tree = processTree(pid);
        const targets = tree.length > 1 ? tree.slice(1) : tree;
        for (const p of targets) {
          try {
            process.kill(p, "SIGTERM");
          } catch {
            // gone already
          }
        }
        const deadline = Date.now() + 15_000;
        while (!proc.exited && Date.now() < deadline) await sleep(100);
      }
      killGroup(pid, "SIGKILL"); // stragglers in the group (e.g. erl_child_setup)
      live.delete(proc);
    },
  };
  child.on("exit", () => {
    proc.exited = true;
  });
  live.add(proc);
  return proc;
}

/** Runs a command to completion, returning stdout; throws with its output on failure. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** True when an executable is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let aptUpdated = false;

/** Installs Debian packages if `bin` is missing (`apt-get update` at most once per run). */
export function ensurePackage(bin: string, packages: string[], log: (s: string) => void): void {
  if (hasCommand(bin)) return;
  log(`${bin} not found: apt-get install -y ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    run("apt-get", ["update", "-q"], { env });
    aptUpdated = true;
  }
  run("apt-get", ["install", "-y", "-q", ...packages], { env });
  if (!hasCommand(bin)) throw new Error(`${bin} still missing after installing ${packages.join(" ")}`);
}

/** Installed Debian package version, or "unknown". */
export function debVersion(pkg: string): string {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=$" + "{Version}", pkg], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
