/** Serialized histogram: bucket index → count (only non-empty buckets), mergeable across workers. */
export interface HistogramData {
  buckets: Record<string, number>;
  count: number;
  sum: number;
  max: number;
}

const SUB = 64; // sub-buckets per power of two above 128 µs: at most 1/64 (1.6 %) relative error
const LINEAR = 128; // values below this are exact
const SIZE = LINEAR + 26 * SUB;

function indexOf(v: number): number {
  if (v < LINEAR) return v < 0 ? 0 : Math.floor(v);
  const x = Math.min(Math.floor(v), 0x7fffffff);
  const e = 31 - Math.clz32(x) - 6;
  return LINEAR + (e - 1) * SUB + ((x >> e) - SUB);
}

function bucketValue(idx: number): number {
  if (idx < LINEAR) return idx;
  const e = Math.floor((idx - LINEAR) / SUB) + 1;
  const sub = ((idx - LINEAR) % SUB) + SUB;
  return ((sub << e) + ((sub + 1) << e) - 1) / 2; // bucket midpoint
}

/** A log-linear latency histogram of non-negative integers (microseconds), HDR-style, cheap to record and merge. */
export class Histogram {
  private readonly counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  max = 0;

  record(v: number): void {
    this.counts[indexOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** Value at quantile q (0..1), from bucket midpoints; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketValue(i), this.max);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
  }

  toJSON(): HistogramData {
    const buckets: Record<string, number> = {};
    for (let i = 0; i < SIZE; i++) if (this.counts[i]! > 0) buckets[i] = this.counts[i]!;
    return { buckets, count: this.count, sum: this.sum, max: this.max };
  }

  /** Adds a serialized histogram (from another worker) into this one. */
  merge(data: HistogramData): void {
    for (const [k, v] of Object.entries(data.buckets)) this.counts[Number(k)]! += v;
    this.count += data.count;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
  }

  static from(parts: HistogramData[]): Histogram {
    const h = new Histogram();
    for (const p of parts) h.merge(p);
    return h;
  }
}

/** Percentiles in milliseconds, rounded to µs, for reports. */
export interface LatencySummary {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
}

export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.count,
    mean_ms: ms(h.mean),
    p50_ms: ms(h.quantile(0.5)),
    p99_ms: ms(h.quantile(0.99)),
    p999_ms: ms(h.quantile(0.999)),
    max_ms: ms(h.max),
  };
}
