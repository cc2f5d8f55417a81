import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

/** Requests, failures and percentiles of a stretch of the run. */
export interface LoadFigures {
  readonly sent: number;
  readonly failed: number;
  /** Of the answered requests, in ms from each request's intended send time; null without any. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** One second of the run, for the chart. */
export interface LoadSecond extends LoadFigures {
  /** Seconds since the load started. */
  readonly second: number;
}

/** Requests that answered 200, and the rest. */
interface Sample {
  /** Intended send time, ms since the load started. */
  readonly at: number;
  readonly latencyMs: number;
  readonly ok: boolean;
}

/**
 * Open-loop load: request k is due at k / rate seconds and leaves then whether or not earlier
 * ones have answered; its latency counts from when it was due. A closed loop would wait out a
 * stall instead of showing it (coordinated omission).
 */
export class OpenLoopLoad {
  readonly #pool: Pool;
  readonly #samples: Sample[] = [];
  readonly #failures: string[] = [];
  readonly #startedAt = performance.now();
  #sent = 0;
  #inFlight = 0;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(origin: string, ratePerSecond: number) {
    // Enough connections that a 50 ms stall at the rate never waits for one.
    this.#pool = new Pool(origin, { connections: 64, headersTimeout: 10_000, bodyTimeout: 10_000 });
    this.#loop = this.#run(1000 / ratePerSecond);
  }

  /** Milliseconds since the load started. */
  now(): number {
    return performance.now() - this.#startedAt;
  }

  get sent(): number {
    return this.#sent;
  }

  /** The first failures, one line each. */
  get failures(): readonly string[] {
    return this.#failures;
  }

  /** Figures of the requests due in [fromMs, toMs). */
  figures(fromMs = 0, toMs = Number.POSITIVE_INFINITY): LoadFigures {
    const inRange = this.#samples.filter((s) => s.at >= fromMs && s.at < toMs);
    return figuresOf(inRange);
  }

  /** Figures per whole second of the run. */
  seconds(): LoadSecond[] {
    const buckets: Sample[][] = [];
    for (const s of this.#samples) {
      const second = Math.floor(s.at / 1000);
      const bucket = buckets[second] ?? [];
      bucket.push(s);
      buckets[second] = bucket;
    }
    // The last second is cut short by the stop: left out rather than drawn as a drop.
    const whole = Math.floor((this.#samples.reduce((max, s) => Math.max(max, s.at), 0) + 1) / 1000);
    return Array.from(buckets.slice(0, whole), (bucket, second) => ({ second, ...figuresOf(bucket ?? []) }));
  }

  /** Stops sending, waits for the requests in flight (at most their 10 s timeout) and closes the pool. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    while (this.#inFlight > 0) await sleep(10);
    await this.#pool.close();
  }

  async #run(intervalMs: number): Promise<void> {
    let k = 0;
    while (!this.#stopped) {
      const now = this.now();
      // Every request due by now leaves, each timed from its own slot, so a late timer hides nothing.
      for (; k * intervalMs <= now; k++) this.#send(k, k * intervalMs);
      await sleep(Math.max(1, (k * intervalMs - this.now()) | 0));
    }
  }

  #send(k: number, dueAt: number): void {
    this.#sent++;
    this.#inFlight++;
    const path = `/api/items/${k % 10_000}`;
    this.#pool
      .request({ method: 'GET', path })
      .then(async (res) => {
        const body = await res.body.text();
        const ok = res.statusCode === 200;
        this.#record(dueAt, ok, ok ? '' : `${path}: ${res.statusCode} ${body.slice(0, 80).trim()}`);
      })
      .catch((error: unknown) => {
        this.#record(dueAt, false, `${path}: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.#inFlight--;
      });
  }

  #record(dueAt: number, ok: boolean, failure: string): void {
    this.#samples.push({ at: dueAt, latencyMs: this.now() - dueAt, ok });
    if (!ok && this.#failures.length < 20) this.#failures.push(failure);
  }
}

function figuresOf(samples: readonly Sample[]): LoadFigures {
  const latencies = samples
    .filter((s) => s.ok)
    .map((s) => s.latencyMs)
    .sort((a, b) => a - b);
  return {
    sent: samples.length,
    failed: samples.length - latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
