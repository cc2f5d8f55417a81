import type { SeriesLabels } from './series-guard.ts';

/** The latest exemplar of one histogram bucket, overwritten in place (no allocation per request). */
export interface ExemplarSlot {
  readonly labelSet: { trace_id: string };
  /** The observed duration, in seconds. */
  value: number;
  /** Unix time in seconds, as OpenMetrics writes exemplar timestamps. */
  timestamp: number;
}

/**
 * Everything recorded for one label set of the HTTP metrics: the request counter is `count`,
 * the duration histogram is `count`, `sum` and `buckets`. One object per series, found by the
 * cardinality guard, updated with a few arithmetic operations per request; it is also the
 * compact histogram point the encoder reads (`HistogramPoint`).
 */
export class RequestSeries {
  readonly labels: SeriesLabels;
  count = 0;
  sum = 0;
  /** Per-bucket (not cumulative) counts; the +Inf bucket is `count`. */
  readonly buckets: Float64Array;
  /** One slot per bucket, +Inf last; created on the first exemplar. */
  exemplars: Array<ExemplarSlot | undefined> | undefined;

  constructor(labels: SeriesLabels, bucketCount: number) {
    this.labels = labels;
    this.buckets = new Float64Array(bucketCount);
  }

  /** Records one request of `seconds`; `bucket` from {@link bucketIndex}. */
  observe(seconds: number, bucket: number): void {
    this.count++;
    this.sum += seconds;
    if (bucket < this.buckets.length) this.buckets[bucket]!++;
  }

  setExemplar(bucket: number, traceId: string, value: number): void {
    this.exemplars ??= new Array<ExemplarSlot | undefined>(this.buckets.length + 1);
    const timestamp = Date.now() / 1000;
    const slot = this.exemplars[bucket];
    if (slot === undefined) this.exemplars[bucket] = { labelSet: { trace_id: traceId }, value, timestamp };
    else {
      slot.labelSet.trace_id = traceId;
      slot.value = value;
      slot.timestamp = timestamp;
    }
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.buckets.fill(0);
    this.exemplars = undefined;
  }
}

/** The first bucket whose upper bound holds `value` (`le` is inclusive); `bounds.length` for +Inf. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  return i;
}
