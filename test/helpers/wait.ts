/**
 * Retries an assertion until it passes or the time is up, for effects that complete shortly after the
 * protocol answer (e.g. an account's data is swept after its sessions have ended). Rethrows the last
 * failure, so a test that waits in vain says what was still wrong.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
