/**
 * Open-loop HTTP load at a fixed rate: requests leave on a timetable (request i at
 * start + i / rate) whether or not earlier ones were answered, and each latency is measured from
 * the request's intended send time, so a stall shows up in every request it delayed instead of
 * in one (no coordinated omission). A request waiting for a free connection is waiting too, and
 * that counts. Percentiles are exact: every sample is kept and sorted.
 *
 * Two transports: an undici Pool (the default; about 70 us of CPU per request here, fine up to a
 * few thousand req/s) and, for rates near a fast proxy's saturation, lean raw keep-alive sockets
 * (open-loop-socket-transport.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { percentile } from './probe-load.ts';

/** Sends one GET and reports its status (0 for a transport error or a timeout) exactly once. */
export interface OpenLoopTransport {
  send(path: string, done: (status: number) => void): void;
  close(): Promise<void>;
}

export interface OpenLoopRun {
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** The path of request `i`. @default `/api/items/${i % 10000}` */
  readonly path?: ((i: number) => string) | undefined;
  /** After the last request left, stragglers are awaited this long, then count as failed. @default 10000 */
  readonly graceMs?: number | undefined;
}

export interface OpenLoopResult {
  readonly rate: number;
  readonly scheduled: number;
  /** Answered with a 2xx. */
  readonly ok: number;
  /** Non-2xx answers, transport errors and requests unanswered within the grace period. */
  readonly errors: number;
  /** Requests actually sent per second over the sending window: below `rate` when the generator fell behind. */
  readonly sendRate: number;
  /** 2xx answers per second, from the first send to the last answer: below `rate` when the target could not keep up. */
  readonly achievedRate: number;
  /** The generator's own lateness: how far behind its timetable a batch of requests left, at worst. */
  readonly maxSendLagMs: number;
  /** Latency percentiles in ms from the intended send time; failed requests count as infinitely slow. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

const DEFAULT_PATH = (i: number): string => `/api/items/${i % 10_000}`;
/** The generator wakes about this often; requests due meanwhile leave together, each timed from its own slot. */
const TICK_MS = 1;

/** Runs `run` through `transport` (reusable: a warm-up run opens its connections). */
export async function openLoop(transport: OpenLoopTransport, run: OpenLoopRun): Promise<OpenLoopResult> {
  const path = run.path ?? DEFAULT_PATH;
  const total = Math.max(1, Math.round((run.rate * run.durationMs) / 1000));
  const intervalMs = 1000 / run.rate;
  const latencies = new Float64Array(total).fill(Number.POSITIVE_INFINITY);
  let ok = 0;
  let answered = 0;
  let lastAnswerAt = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const send = (i: number, intended: number): void => {
    transport.send(path(i), (status) => {
      const now = performance.now();
      lastAnswerAt = now;
      if (status >= 200 && status < 300) {
        latencies[i] = now - intended;
        ok++;
      }
      if (++answered === total) allDone();
    });
  };
  let sent = 0;
  let maxSendLagMs = 0;
  const start = performance.now() + 5;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
    if (due > sent) maxSendLagMs = Math.max(maxSendLagMs, now - (start + sent * intervalMs));
    for (; sent < due; sent++) send(sent, start + sent * intervalMs);
    await sleep(TICK_MS);
  }
  const sendingMs = performance.now() - start;
  // Requests still unanswered after the grace period stay Infinity: failed.
  await Promise.race([done, sleep(run.graceMs ?? 10_000, undefined, { ref: false })]);
  const sorted = Array.from(latencies.sort());
  return {
    rate: run.rate,
    scheduled: total,
    ok,
    errors: total - ok,
    sendRate: (total / sendingMs) * 1000,
    achievedRate: (ok / Math.max(sendingMs, run.durationMs, lastAnswerAt - start)) * 1000,
    maxSendLagMs,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

export interface UndiciTransportOptions {
  /** @default 256: enough that 4 000 req/s with a 50 ms backend (about 200 in flight) never waits for one */
  readonly connections?: number | undefined;
  /** A request unanswered after this long fails. @default 10000 */
  readonly timeoutMs?: number | undefined;
}

/** Keep-alive undici Pool to `origin`. */
export function undiciTransport(origin: string, options: UndiciTransportOptions = {}): OpenLoopTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pool = new Pool(origin, {
    connections: options.connections ?? 256,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
  });
  return {
    send(path, done) {
      let status = 0;
      pool.dispatch(
        { origin, method: 'GET', path },
        {
          // undici treats a handler without onRequestStart as a legacy (v6) handler and never ends it.
          onRequestStart() {},
          onResponseStart(_controller, statusCode) {
            status = statusCode;
          },
          onResponseData() {},
          onResponseEnd() {
            done(status);
          },
          onResponseError() {
            done(0);
          },
        },
      );
    },
    close: () => pool.destroy(),
  };
}

/** `p` for a table: ms with two decimals, or "failed" when the percentile fell on failed requests. */
export function formatMs(p: number): string {
  return Number.isFinite(p) ? p.toFixed(2) : 'failed';
}
