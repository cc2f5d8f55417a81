import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';

/** What a load run saw. */
export interface LoadReport {
  readonly sent: number;
  /** Responses by status code. */
  readonly statuses: ReadonlyMap<number, number>;
  /** One line per request that did not answer 200 (status and body, or the client error), the first 50. */
  readonly failures: readonly string[];
  /** Requests that did not answer 200, all of them. */
  readonly failed: number;
  /** Latency of each request in ms, in completion order. */
  readonly latencies: readonly number[];
}

class LoadRecorder {
  sent = 0;
  failed = 0;
  readonly statuses = new Map<number, number>();
  readonly failures: string[] = [];
  readonly latencies: number[] = [];

  async send(url: string, dispatcher: Dispatcher, startedAt: number): Promise<void> {
    this.sent++;
    try {
      const res = await request(url, { dispatcher });
      const body = await res.body.text();
      this.latencies.push(performance.now() - startedAt);
      this.statuses.set(res.statusCode, (this.statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode !== 200) this.#fail(`${url}: ${res.statusCode} ${body.slice(0, 80)}`);
    } catch (error) {
      this.latencies.push(performance.now() - startedAt);
      this.#fail(`${url}: ${String(error)}`);
    }
  }

  report(): LoadReport {
    return {
      sent: this.sent,
      statuses: this.statuses,
      failures: this.failures,
      failed: this.failed,
      latencies: this.latencies,
    };
  }

  #fail(line: string): void {
    this.failed++;
    if (this.failures.length < 50) this.failures.push(line);
  }
}

/** A closed-loop load that runs until stopped. */
export interface SteadyLoad {
  /** Requests answered so far (any status). */
  readonly completed: number;
  /** Stops sending, waits for the requests in flight and reports. */
  stop(): Promise<LoadReport>;
}

/**
 * `workers` loops, each sending GET `path(n)` to `origin` and waiting for the answer, paced so
 * that together they send at most `ratePerSecond`: a bounded load a 2-core machine sustains while
 * the processes under test restart. A worker behind its timetable sends at once (never in bursts
 * of more than one request per worker).
 */
export function startSteadyLoad(options: {
  origin: string;
  path: (n: number) => string;
  workers: number;
  ratePerSecond: number;
  dispatcher: Dispatcher;
}): SteadyLoad {
  const recorder = new LoadRecorder();
  const intervalMs = (1000 * options.workers) / options.ratePerSecond;
  let stopped = false;
  let n = 0;
  const worker = async (offset: number): Promise<void> => {
    let due = performance.now() + (offset * intervalMs) / options.workers;
    while (!stopped) {
      const wait = due - performance.now();
      // A worker that is behind still yields: a run of instant failures must not starve timers.
      if (wait > 0) await sleep(wait);
      else await setImmediate();
      if (stopped) break;
      due = Math.max(due + intervalMs, performance.now());
      const start = performance.now();
      await recorder.send(`${options.origin}${options.path(n++)}`, options.dispatcher, start);
    }
  };
  const workers = Array.from({ length: options.workers }, (_, i) => worker(i));
  return {
    get completed() {
      return recorder.latencies.length;
    },
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return recorder.report();
    },
  };
}

/**
 * Open-loop load: request k is due at `k / ratePerSecond` seconds and sent then whether or not
 * earlier ones have answered, and its latency runs from when it was due, not when it went out.
 * A closed loop would wait out a slow answer before sending the next request and so hide it
 * (coordinated omission); here a stall shows up in every request scheduled during it.
 */
export async function runTimetable(options: {
  origin: string;
  path: (n: number) => string;
  ratePerSecond: number;
  durationMs: number;
  dispatcher: Dispatcher;
}): Promise<LoadReport> {
  const recorder = new LoadRecorder();
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let k = 0; k < total; ) {
    const now = performance.now();
    // Every request due by now goes out, so a late timer delays none of them in the record.
    for (; k < total && start + k * intervalMs <= now; k++) {
      pending.push(
        recorder.send(`${options.origin}${options.path(k)}`, options.dispatcher, start + k * intervalMs),
      );
    }
    if (k < total) await sleep(Math.max(0, start + k * intervalMs - performance.now()));
  }
  await Promise.all(pending);
  return recorder.report();
}

/** The `q` quantile (0..1) of `values` by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
