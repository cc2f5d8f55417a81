/** The dispatcher bench's tables (dispatcher.ts): healthy side by side, then one degraded backend against the target. */
import type { ClosedLoopResult } from './closed-loop-fetch.ts';
import { formatMs } from './open-loop-load.ts';

export type Client = 'dispatcher' | 'balanced-pool' | 'pool';

/** One client's measurement in one scenario. */
export interface Row {
  readonly client: Client;
  readonly result: ClosedLoopResult;
  /** Each backend's share of the measured calls, in the scenario's `origins` order. */
  readonly shares: readonly number[];
}

export interface Scenario {
  /** Whether the last backend answers late. */
  readonly degraded: boolean;
  readonly origins: readonly string[];
  readonly rows: readonly Row[];
}

export interface ReportSettings {
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly delayMs: number;
  readonly pinned: boolean;
  readonly command: string;
}

/** The dispatcher's degraded p99 may be at most this many times its healthy p99. */
export const TARGET_RATIO = 1.5;

const LABELS: Record<Client, string> = {
  dispatcher: 'fetch + createBalancedDispatcher (p2c-ewma), 3 backends',
  'balanced-pool': 'fetch + undici BalancedPool, 3 backends',
  pool: 'fetch + undici Pool, 1 backend (keep-alive)',
};

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

export function report(scenarios: readonly Scenario[], s: ReportSettings): string[] {
  const healthy = scenarios.find((sc) => !sc.degraded);
  const degraded = scenarios.find((sc) => sc.degraded);
  const placement = s.pinned
    ? 'the benchmark process (all clients) pinned to CPU 0, the three backend processes to CPU 1: 2 cores in all'
    : 'nothing pinned (no taskset): clients and backends share the 2 cores';
  const lines = [
    '',
    `## Client-side balancing: closed loop, ${s.concurrency} concurrent fetch calls, ${s.seconds} s measured after ${s.warmupSeconds} s warm-up`,
    '',
    `GET of a 24-byte JSON body from plain node:http backends on 127.0.0.1; undici fetch (undici package) in one process; ${placement}. ` +
      'Each client is built fresh for each row, after one unmeasured pass of every client; BalancedPool and Pool with ' +
      "undici's defaults; the dispatcher with its defaults except readiness checks every 500 ms and slow start off " +
      '(the backends all start together). Latency from the call to the end of its body; all latencies in ms.',
  ];
  if (healthy !== undefined) {
    lines.push(
      '',
      '### Healthy: three backends',
      '',
      '| client | calls/s | p50 | p90 | p99 | max | calls per backend | errors |',
      '|---|---:|---:|---:|---:|---:|---|---:|',
    );
    for (const { client, result: r, shares } of healthy.rows) {
      lines.push(
        `| ${LABELS[client]} | ${Math.round(r.callsPerSecond)} | ${formatMs(r.p50)} | ${formatMs(r.p90)} | ` +
          `${formatMs(r.p99)} | ${formatMs(r.max)} | ${shares.map(percent).join(' / ')} | ${r.errors} |`,
      );
    }
  }
  if (degraded !== undefined) {
    lines.push(
      '',
      `### Degraded: one of the three backends answers ${s.delayMs} ms late`,
      '',
      '| client | calls/s | p50 | p90 | p99 | healthy p99 (same client) | p99 / healthy p99 | calls to the slow backend | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const { client, result: r, shares } of degraded.rows) {
      const reference = healthy?.rows.find((h) => h.client === client)?.result.p99 ?? Number.NaN;
      lines.push(
        `| ${LABELS[client]} | ${Math.round(r.callsPerSecond)} | ${formatMs(r.p50)} | ${formatMs(r.p90)} | ` +
          `${formatMs(r.p99)} | ${formatMs(reference)} | ${(r.p99 / reference).toFixed(2)} | ` +
          `${percent(shares[shares.length - 1] ?? 0)} | ${r.errors} |`,
      );
    }
    const dispatcher = degraded.rows.find((r) => r.client === 'dispatcher');
    const reference = healthy?.rows.find((h) => h.client === 'dispatcher')?.result.p99;
    if (dispatcher !== undefined && reference !== undefined) {
      const ratio = dispatcher.result.p99 / reference;
      lines.push(
        '',
        `target: dispatcher p99 with one backend ${s.delayMs} ms late <= ${TARGET_RATIO} x its healthy p99 ` +
          `(${formatMs(dispatcher.result.p99)} / ${formatMs(reference)} ms): ` +
          `${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'} (${Number.isFinite(ratio) ? ratio.toFixed(2) : 'failed'})`,
      );
    }
  }
  for (const sc of scenarios) {
    for (const r of sc.rows) {
      if (r.result.firstError !== undefined)
        lines.push(`${LABELS[r.client]}: ${r.result.errors} errors, first: ${r.result.firstError}`);
    }
  }
  lines.push('', `Reproduce: ${s.command}   (after: npx turbo run build --filter=@readykit/balancer)`);
  return lines;
}
