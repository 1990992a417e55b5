import type { StanzaKind } from "./stanza.ts";

/** One timed storage call, as reported by the `measured` storage decorator. */
export interface StorageTiming {
  /** Store name on `Storage` (`accounts`, `roster`, ...). */
  store: string;
  /** Method called (`get`, `setItem`, ...). */
  op: string;
  seconds: number;
  ok: boolean;
}

/**
 * Counters the core keeps about itself. Plain numbers, so the hot paths pay one increment and the core
 * needs no metrics library; `/metrics` (src/http/metrics.ts) reads them when scraped. Gauges such as open
 * connections or bound sessions are not kept here: they are counted from the live registries at scrape time.
 */
export class ServerMetrics {
  /** Stanzas received from clients, by kind. */
  readonly stanzasIn: Record<StanzaKind, number> = { message: 0, presence: 0, iq: 0 };
  /** Stanzas written to clients, by kind. */
  readonly stanzasOut: Record<StanzaKind, number> = { message: 0, presence: 0, iq: 0 };
  /** SASL exchanges that failed (wrong password, unknown user, bad mechanism, or aborted by the client). */
  authFailures = 0;
  /** SASL exchanges that succeeded. */
  authSuccesses = 0;
  /** Bytes received by HTTP file upload (XEP-0363); the upload service adds to it. */
  uploadBytes = 0;
  private readonly storageObservers = new Set<(t: StorageTiming) => void>();

  /** Reports a storage call to the observers (the storage latency histogram). */
  storageTiming(timing: StorageTiming): void {
    for (const fn of this.storageObservers) fn(timing);
  }

  /** Subscribes to storage timings; returns the unsubscribe function. */
  onStorageTiming(fn: (t: StorageTiming) => void): () => void {
    this.storageObservers.add(fn);
    return () => this.storageObservers.delete(fn);
  }
}
