/**
 * A typed event bus with priorities. Handlers run from the highest priority down; a handler that
 * returns `true` (or a promise of it) marks the event handled and stops the chain, the way Prosody's
 * hooks do. Handlers may be async; the bus awaits each one before calling the next, so the order of
 * effects is the order of priorities.
 *
 * `M` maps event names to payload types. Names may be template-literal patterns (e.g.
 * `iq-get/host/${string}`) so that per-namespace events stay typed.
 */
export type EventResult = boolean | undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing did not handle the event
export type EventHandler<P> = (payload: P) => EventResult | void | Promise<EventResult | void>;

interface Entry<P> {
  handler: EventHandler<P>;
  priority: number;
}

export class EventBus<M> {
  private readonly handlers = new Map<string, Entry<never>[]>();

  /** Registers a handler; returns a function that removes it. */
  on<K extends keyof M & string>(name: K, handler: EventHandler<M[K]>, priority = 0): () => void {
    let list = this.handlers.get(name);
    if (!list) {
      list = [];
      this.handlers.set(name, list);
    }
    const entry = { handler, priority } as unknown as Entry<never>;
    // Keep sorted by descending priority; equal priorities run in registration order.
    let i = list.length;
    while (i > 0 && (list[i - 1] as Entry<never>).priority < priority) i--;
    list.splice(i, 0, entry);
    return () => {
      const l = this.handlers.get(name);
      if (!l) return;
      const idx = l.indexOf(entry);
      if (idx >= 0) l.splice(idx, 1);
      if (l.length === 0) this.handlers.delete(name);
    };
  }

  /** The names of the events that have handlers, for diagnostics and for tests that probe every handler. */
  names(): string[] {
    return [...this.handlers.keys()];
  }

  /** True if anything listens to this event (lets hot paths skip building payloads). */
  has(name: keyof M & string): boolean {
    return this.handlers.has(name);
  }

  /** Runs the handlers in priority order until one returns true. Resolves to whether one did. */
  async fire<K extends keyof M & string>(name: K, payload: M[K]): Promise<boolean> {
    const list = this.handlers.get(name);
    if (!list) return false;
    // Copy so that handlers may (un)register during dispatch.
    for (const entry of list.length === 1 ? list : list.slice()) {
      let r = (entry.handler as EventHandler<M[K]>)(payload);
      if (r !== null && typeof r === "object" && typeof (r as Promise<unknown>).then === "function") r = await r;
      if (r === true) return true;
    }
    return false;
  }
}
