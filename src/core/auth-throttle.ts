/**
 * Counts failed authentications per remote address in a sliding window, so that password guessing
 * from one address is refused (`temporary-auth-failure`) once it passes the limit, without affecting
 * anyone else.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  private recent(ip: string, now: number): number[] {
    const list = this.failures.get(ip);
    if (!list) return [];
    const cutoff = now - this.windowMs;
    while (list.length > 0 && (list[0] as number) < cutoff) list.shift();
    if (list.length === 0) this.failures.delete(ip);
    return list;
  }

  /** True if this address may try to authenticate now. */
  allowed(ip: string, now = Date.now()): boolean {
    return this.recent(ip, now).length < this.maxFailures;
  }

  recordFailure(ip: string, now = Date.now()): void {
    const list = this.recent(ip, now);
    list.push(now);
    this.failures.set(ip, list);
    // Bound memory under a distributed attack: forget the oldest addresses first.
    if (this.failures.size > 100_000) {
      const first = this.failures.keys().next().value;
      if (first !== undefined) this.failures.delete(first);
    }
  }
}
