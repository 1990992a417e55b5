/** Periodic clean-ups of what all hosts of a server share (expired invitations, archive retention). */
import type { ModuleContext } from "./module.ts";
import type { Server } from "./server.ts";

const running = new WeakMap<Server, Set<string>>();

/**
 * Runs `sweep` now, then every `intervalMs`: once per server for each `name`, whichever host's module loads first,
 * since the storage it cleans is shared. The timer stops with the module that started it. A failed run after the
 * first is logged as "`name` failed" and tried again at the next interval.
 */
export async function serverSweep(
  ctx: ModuleContext,
  name: string,
  intervalMs: number,
  sweep: () => Promise<void>,
): Promise<void> {
  let names = running.get(ctx.server);
  if (!names) {
    names = new Set();
    running.set(ctx.server, names);
  }
  if (names.has(name)) return;
  names.add(name);
  await sweep();
  const timer = setInterval(() => {
    sweep().catch((err) => ctx.log.error({ err }, `${name} failed`));
  }, intervalMs);
  timer.unref();
  ctx.onStop(() => {
    clearInterval(timer);
    names.delete(name);
  });
}
