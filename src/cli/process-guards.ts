import type { Logger } from "../log.ts";

/** What `installProcessGuards` needs. */
export interface ProcessGuardOptions {
  log: Logger;
  /** Stops the server gracefully (sessions told `system-shutdown`, storage closed) before a fatal exit. */
  shutdown(): Promise<void>;
  /** Uncaught exceptions within `windowMs` that make the process unhealthy (default 5 in 60 s). */
  maxExceptions?: number;
  windowMs?: number;
  /** Longest a fatal shutdown may take before the process exits anyway. */
  shutdownTimeoutMs?: number;
  /** For tests. */
  exit?: (code: number) => void;
}

/**
 * Process-level safety nets for `hearth start`. Handlers already turn their own failures into stanza errors, stream
 * errors or HTTP 500s; these catch what escapes anyway, so that one bug never disconnects everybody:
 *
 * - an unhandled promise rejection is logged loudly (it is a bug) and the server keeps running: a rejection leaves
 *   no half-done synchronous state behind;
 * - an uncaught exception is logged too and the server keeps running, unless they keep coming (`maxExceptions` in
 *   `windowMs`): then the process is not healthy, so it shuts down gracefully and exits with status 1 for the
 *   service manager to restart it (systemd `Restart=on-failure`).
 *
 * Returns a function that removes the handlers.
 */
export function installProcessGuards(opts: ProcessGuardOptions): () => void {
  const { log } = opts;
  const maxExceptions = opts.maxExceptions ?? 5;
  const windowMs = opts.windowMs ?? 60_000;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const recent: number[] = [];
  let fatal = false;

  const onRejection = (reason: unknown) => {
    log.error({ err: reason }, "unhandled promise rejection (a bug, please report it); the server keeps running");
  };

  const onException = (err: Error, origin: string) => {
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && (recent[0] as number) <= now - windowMs) recent.shift();
    if (recent.length < maxExceptions || fatal) {
      log.error({ err, origin }, "uncaught exception (a bug, please report it); the server keeps running");
      return;
    }
    fatal = true;
    log.fatal({ err, origin, count: recent.length }, "repeated uncaught exceptions: shutting down");
    const timer = setTimeout(() => exit(1), opts.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    opts.shutdown().then(
      () => exit(1),
      (stopErr: unknown) => {
        log.error({ err: stopErr }, "shutdown after a fatal error failed");
        exit(1);
      },
    );
  };

  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };
}
