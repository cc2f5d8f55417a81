import { SecondSeries } from './second-series.ts';

/** Seconds the window's figures cover (requests per second, success rate, p50, p99). */
export const WINDOW_SECONDS = 10;
/** Seconds of per-second history kept for the sparklines: five minutes. */
export const HISTORY_SECONDS = 300;

// Latency buckets: bucket 0 holds everything up to MIN_MS, bucket k (k >= 1) holds
// (MIN_MS * 2^((k-1)/PER_DOUBLING), MIN_MS * 2^(k/PER_DOUBLING)], the last one everything above.
// Four per doubling puts a quantile within 9 % of the truth, from 50 µs to minutes.
const MIN_MS = 0.05;
const PER_DOUBLING = 4;
const BUCKETS = 96;

/** What the window says about the last {@link WINDOW_SECONDS} seconds. */
export interface WindowSummary {
  /** Attempts finished in the window. */
  readonly requests: number;
  /** Attempts per second over the window (over the window's age while it is younger). */
  readonly rps: number;
  /** Share of attempts answered below 500, from 0 to 1; null without attempts. */
  readonly successRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

// Scratch for merging slots: the balancer runs on one thread and a summary never nests.
const merged = new Uint32Array(BUCKETS);

/**
 * Finished attempts of one backend (or of all of them) over a sliding window of one-second
 * slots: how many, how many failed (5xx, or no response at all), and a log-bucketed latency
 * histogram per slot for the quantiles. Each second, as it ends, is also folded into a
 * {@link SecondSeries} for the sparklines, by the first record or read that comes after it, so
 * nothing needs a timer. Recording touches preallocated typed arrays only: it runs once per
 * attempt on the proxy's hot path. Time is `performance.now()` milliseconds, passed in.
 */
export class RequestWindow {
  readonly history = new SecondSeries(HISTORY_SECONDS);
  readonly #createdAt: number;
  // Per slot: the second it holds (-1: none yet), counts, latency extremes, histogram.
  readonly #second = new Float64Array(WINDOW_SECONDS).fill(-1);
  readonly #requests = new Uint32Array(WINDOW_SECONDS);
  readonly #failures = new Uint32Array(WINDOW_SECONDS);
  readonly #min = new Float64Array(WINDOW_SECONDS);
  readonly #max = new Float64Array(WINDOW_SECONDS);
  readonly #buckets = new Uint32Array(WINDOW_SECONDS * BUCKETS);
  // The last second already in the history.
  #folded: number;

  constructor(now: number = performance.now()) {
    this.#createdAt = now;
    this.#folded = secondOf(now) - 1;
  }

  /** One finished attempt: `status` 0 when it failed without a response. */
  record(status: number, durationMs: number, now: number): void {
    const second = secondOf(now);
    if (second > this.#folded + 1) this.#fold(second);
    const slot = second % WINDOW_SECONDS;
    const held = this.#second[slot]!;
    if (held !== second) {
      if (held > second) return; // a clock read out of order, older than the slot: dropped
      this.#clear(slot, second);
    }
    const ms = Number.isNaN(durationMs) ? 0 : Math.max(durationMs, 0);
    this.#requests[slot]!++;
    if (status === 0 || status >= 500) this.#failures[slot]!++;
    if (ms < this.#min[slot]!) this.#min[slot] = ms;
    if (ms > this.#max[slot]!) this.#max[slot] = ms;
    this.#buckets[slot * BUCKETS + bucketOf(ms)]!++;
  }

  /** Figures over the last {@link WINDOW_SECONDS} seconds, the current one included. */
  summary(now: number): WindowSummary {
    const second = secondOf(now);
    merged.fill(0);
    let requests = 0;
    let failures = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let slot = 0; slot < WINDOW_SECONDS; slot++) {
      const held = this.#second[slot]!;
      if (held < 0 || held > second || held <= second - WINDOW_SECONDS) continue;
      requests += this.#requests[slot]!;
      failures += this.#failures[slot]!;
      if (this.#min[slot]! < min) min = this.#min[slot]!;
      if (this.#max[slot]! > max) max = this.#max[slot]!;
      const base = slot * BUCKETS;
      for (let b = 0; b < BUCKETS; b++) merged[b]! += this.#buckets[base + b]!;
    }
    // The current second counts for the part of it that has passed.
    const span = Math.max(
      1,
      Math.min(WINDOW_SECONDS - 1 + (now / 1000 - second), (now - this.#createdAt) / 1000),
    );
    return {
      requests,
      rps: requests / span,
      successRate: requests === 0 ? null : (requests - failures) / requests,
      p50Ms: requests === 0 ? null : quantile(merged, 0, requests, 0.5, min, max),
      p99Ms: requests === 0 ? null : quantile(merged, 0, requests, 0.99, min, max),
    };
  }

  /** Folds every second that ended before `now` into {@link history}, then returns it. */
  historyAt(now: number): SecondSeries {
    const second = secondOf(now);
    if (second > this.#folded + 1) this.#fold(second);
    return this.history;
  }

  /** Appends the seconds after the last folded one and before `second` to the history. */
  #fold(second: number): void {
    // Seconds that would be overwritten before anyone reads them are skipped.
    let from = Math.max(this.#folded + 1, second - HISTORY_SECONDS);
    for (; from < second; from++) {
      const slot = from % WINDOW_SECONDS;
      if (this.#second[slot] === from && this.#requests[slot]! > 0) {
        const n = this.#requests[slot]!;
        const p99 = quantile(this.#buckets, slot * BUCKETS, n, 0.99, this.#min[slot]!, this.#max[slot]!);
        this.history.push(from, n, p99);
      } else {
        this.history.push(from, 0, Number.NaN);
      }
    }
    this.#folded = second - 1;
  }

  #clear(slot: number, second: number): void {
    this.#second[slot] = second;
    this.#requests[slot] = 0;
    this.#failures[slot] = 0;
    this.#min[slot] = Number.POSITIVE_INFINITY;
    this.#max[slot] = 0;
    this.#buckets.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
  }
}

function secondOf(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The histogram bucket of a latency. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const bucket = Math.ceil(Math.log2(ms / MIN_MS) * PER_DOUBLING);
  return bucket < BUCKETS ? bucket : BUCKETS - 1;
}

/**
 * The `q` quantile of `count` latencies in `BUCKETS` counts starting at `offset`: the geometric
 * middle of the bucket that holds it, kept within the smallest and largest latency seen (so
 * one request, or many equal ones, give the exact value).
 */
function quantile(
  buckets: Uint32Array,
  offset: number,
  count: number,
  q: number,
  min: number,
  max: number,
): number {
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  let bucket = 0;
  for (; bucket < BUCKETS - 1; bucket++) {
    seen += buckets[offset + bucket]!;
    if (seen >= rank) break;
  }
  const middle = bucket === 0 ? MIN_MS / 2 : MIN_MS * 2 ** ((bucket - 0.5) / PER_DOUBLING);
  return Math.min(max, Math.max(min, middle));
}
