/**
 * Closed-loop load through undici's `fetch`: a fixed number of callers, each sending its next call
 * as soon as the previous one's body was read, for a fixed time. Latency is from the call to the
 * end of its body, per call; every sample is kept and sorted, so percentiles are exact. Closed
 * loop on purpose: it measures what a service calling another sees (calls/s at a given
 * concurrency and their latency), not a proxy's open-loop queueing.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, fetch } from 'undici';
import { percentile } from './probe-load.ts';

export interface ClosedLoopRun {
  /** Calls in flight at any moment. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Calls still unanswered this long after the end count as failed. @default 10000 */
  readonly graceMs?: number | undefined;
}

export interface ClosedLoopResult {
  /** Calls answered 2xx with their whole body read. */
  readonly ok: number;
  /** Non-2xx answers, rejected calls and calls unanswered within the grace period. */
  readonly errors: number;
  /** The first error's message (with its cause's code), for the report. */
  readonly firstError: string | undefined;
  /** 2xx calls per second over the run (from the first call to the last answer). */
  readonly callsPerSecond: number;
  /** Latencies of the 2xx calls in ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Runs `run` against `url` through `dispatcher` (reusable: a warm-up run opens its connections). */
export async function closedLoop(
  url: string,
  dispatcher: Dispatcher,
  run: ClosedLoopRun,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const fail = (message: string): void => {
    errors++;
    firstError ??= message;
  };
  const start = performance.now();
  const end = start + run.durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const sent = performance.now();
      try {
        const response = await fetch(url, { dispatcher });
        await response.arrayBuffer();
        if (response.status >= 200 && response.status < 300) latencies.push(performance.now() - sent);
        else fail(`status ${response.status}`);
      } catch (error) {
        fail(describe(error));
      }
    }
  };
  const callers = Array.from({ length: run.concurrency }, caller);
  const graceMs = run.graceMs ?? 10_000;
  const grace = sleep(run.durationMs + graceMs, 'timeout' as const, { ref: false });
  const settled = await Promise.race([Promise.all(callers).then(() => 'done' as const), grace]);
  // A caller stuck past the grace period has one call in flight: it counts as failed.
  if (settled === 'timeout') fail(`calls unanswered ${graceMs} ms after the end`);
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return {
    ok: latencies.length,
    errors,
    firstError,
    callsPerSecond: (latencies.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies.length === 0 ? Number.NaN : latencies[latencies.length - 1]!,
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause === undefined) return error.message;
  return `${error.message} (${String(cause.code ?? cause.message)})`;
}
