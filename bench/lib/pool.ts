import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Agent, type AgentInit, type AgentMethod } from "../agent.ts";

/** A handle on one agent, in this process or in a forked worker; arguments and results are plain JSON. */
export interface AgentHandle {
  readonly init: AgentInit;
  call<R = unknown>(method: AgentMethod, arg?: unknown): Promise<R>;
  close(): Promise<void>;
}

class LocalHandle implements AgentHandle {
  private readonly agent: Agent;
  constructor(readonly init: AgentInit) {
    this.agent = new Agent(init);
  }
  async call<R>(method: AgentMethod, arg?: unknown): Promise<R> {
    const fn = (this.agent as unknown as Record<string, (a: unknown) => unknown>)[method]!;
    // Round-trip through JSON so in-process runs see exactly what forked ones see.
    return JSON.parse(JSON.stringify((await fn.call(this.agent, arg)) ?? null)) as R;
  }
  async close(): Promise<void> {
    await this.agent.disconnect();
  }
}

class ForkHandle implements AgentHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(
    readonly init: AgentInit,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`worker ${init.workerId}: ${m.error}`));
    });
    child.on("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`worker ${init.workerId} exited (${code})`));
      this.pending.clear();
    });
  }

  static async start(init: AgentInit): Promise<ForkHandle> {
    const entry = fileURLToPath(new URL("../worker.ts", import.meta.url));
    const child = fork(entry, [], { execArgv: ["--import", import.meta.resolve("tsx")], stdio: "inherit" });
    const h = new ForkHandle(init, child);
    await new Promise<void>((resolve, reject) => {
      h.pending.set(0, { resolve: () => resolve(), reject });
      child.send({ init });
    });
    return h;
  }

  call<R>(method: AgentMethod, arg?: unknown): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, method, arg });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    try {
      await this.call("disconnect");
    } catch {
      // the worker may be gone already
    }
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Everything an agent needs except its user range and id. */
export type AgentTemplate = Omit<AgentInit, "workerId" | "firstUser" | "lastUser">;

/**
 * Starts `workers` forked agents (0 = one agent inside this process) and splits the accounts 1..totalUsers between
 * them in contiguous ranges.
 */
export async function startAgents(workers: number, template: AgentTemplate): Promise<AgentHandle[]> {
  const count = Math.max(1, Math.min(workers || 1, template.totalUsers));
  const handles: Promise<AgentHandle>[] = [];
  let first = 1;
  for (let w = 0; w < count; w++) {
    const size = Math.floor(template.totalUsers / count) + (w < template.totalUsers % count ? 1 : 0);
    const init: AgentInit = { ...template, workerId: w, firstUser: first, lastUser: first + size - 1 };
    first += size;
    handles.push(workers === 0 ? Promise.resolve(new LocalHandle(init)) : ForkHandle.start(init));
  }
  return Promise.all(handles);
}

/** Calls the same method on every agent; `argOf` may tailor the argument per agent. */
export function callAll<R>(
  agents: AgentHandle[],
  method: AgentMethod,
  argOf?: ((a: AgentHandle, index: number) => unknown) | Record<string, unknown>,
): Promise<R[]> {
  return Promise.all(agents.map((a, i) => a.call<R>(method, typeof argOf === "function" ? argOf(a, i) : argOf)));
}
