/**
 * Microseconds on CLOCK_MONOTONIC. `process.hrtime` reads the system-wide monotonic clock, so timestamps taken in
 * different worker processes on the same machine can be subtracted (a message stamped by one worker and received by
 * another); `performance.now()` could not, its origin is per process.
 */
export function nowUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1e3);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
