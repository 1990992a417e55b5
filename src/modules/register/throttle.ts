/**
 * Counts accounts created per IP address in a sliding window, so that open registration cannot be used to
 * mass-create accounts from one address (XEP-0077 §7 asks servers to guard against that).
 */
export class RegistrationThrottle {
  private readonly byAddress = new Map<string, number[]>();

  /** `limit` accounts per address per `windowMs`; a limit of 0 means no limit. */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Whether the address may create another account now. */
  allow(address: string, now = Date.now()): boolean {
    if (this.limit === 0) return true;
    return this.recent(address, now).length < this.limit;
  }

  /** Records an account created from the address. */
  count(address: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const times = this.recent(address, now);
    times.push(now);
    this.byAddress.set(address, times);
    // Forget addresses whose window passed, so the map does not grow with every visitor.
    if (this.byAddress.size > 10_000) {
      for (const [a, t] of this.byAddress) if ((t[t.length - 1] ?? 0) <= now - this.windowMs) this.byAddress.delete(a);
    }
  }

  private recent(address: string, now: number): number[] {
    const times = (this.byAddress.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.byAddress.delete(address);
    else this.byAddress.set(address, times);
    return times;
  }
}
