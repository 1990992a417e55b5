/**
 * Runs async tasks one at a time per key. Roster read-modify-write sequences await storage, so two subscription
 * stanzas for the same account could otherwise interleave and lose an update.
 *
 * Never route stanzas while holding a lock: a local contact's server may answer at once and need the same key.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous ? previous.then(() => done) : done;
    this.tails.set(key, tail);
    if (previous) await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
