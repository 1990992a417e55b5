/**
 * Entry point of a forked load-generator process: builds an Agent from the first message, then runs the methods the
 * coordinator asks for, one reply per request (see lib/pool.ts).
 */
import { Agent, type AgentInit } from "./agent.ts";

interface Request {
  id: number;
  method: string;
  arg: unknown;
}

let agent: Agent | undefined;

process.on("message", async (msg: { init?: AgentInit } & Partial<Request>) => {
  if (msg.init !== undefined) {
    agent = new Agent(msg.init);
    process.send!({ id: 0, ok: true, result: null });
    return;
  }
  const { id, method, arg } = msg as Request;
  try {
    const fn = (agent as unknown as Record<string, (a: unknown) => unknown>)[method];
    if (typeof fn !== "function") throw new Error(`unknown agent method ${method}`);
    const result = await fn.call(agent, arg);
    process.send!({ id, ok: true, result: result ?? null });
  } catch (err) {
    process.send!({ id, ok: false, error: (err as Error).stack ?? String(err) });
  }
});

// The coordinator going away (crash, Ctrl-C) must not leave a load generator running.
process.on("disconnect", () => process.exit(0));
