/**
 * Client-side balancing (issue 9): undici `fetch` through `createBalancedDispatcher`, through
 * undici's own `BalancedPool`, and through a plain keep-alive `Pool` to one backend, under the
 * same closed-loop load (closed-loop-fetch.ts: 32 callers, 2 s warm-up, 10 s measured), each
 * client built fresh per row, after one unmeasured pass of every client (JIT warm-up).
 * Backends: three plain node:http processes (dispatcher-backend.ts).
 *
 * Healthy: calls/s and p50/p90/p99 of the three clients side by side. Degraded: one of the three
 * backends answers 50 ms late; p50/p99 of the dispatcher and of BalancedPool, each p99 over the
 * same client's healthy p99 from this run, and PASS/FAIL for the target: the dispatcher's
 * degraded p99 at most 1.5 x its healthy p99. Exits 1 on call errors, never on a missed target.
 *
 *   node bench/dispatcher.ts [--concurrency 32] [--seconds 10] [--warmup 2] [--delay 50] [--quick]
 *
 * Placement on the 2-core machine: this process (the clients) on CPU 0, the three backends on
 * CPU 1 (taskset, when available).
 */
import { spawnSync } from 'node:child_process';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBalancedDispatcher } from '@readykit/balancer';
import { BalancedPool, type Dispatcher, Pool } from 'undici';
import { type BenchProcess, CAN_PIN, startProcess } from './balancer-processes.ts';
import { busyWarning } from './balancer-proxies.ts';
import { runBench } from './bench-process.ts';
import { type ClosedLoopResult, closedLoop } from './closed-loop-fetch.ts';
import { type Client, type Row, report, type Scenario } from './dispatcher-report.ts';
import { formatMs } from './open-loop-load.ts';

const BACKEND = fileURLToPath(new URL('./dispatcher-backend.ts', import.meta.url));
const CLIENT_CPU = 0;
const BACKEND_CPU = 1;
/** The logical origin the dispatcher and BalancedPool are called with; a plain Pool is called at its backend. */
const ORIGIN = 'http://items.bench';
const PATH = '/api/items/1';
const CLIENTS: readonly Client[] = ['dispatcher', 'balanced-pool', 'pool'];

interface Settings {
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly delayMs: number;
}

function settings(): Settings | string {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '32' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      delay: { type: 'string', default: '50' },
      quick: { type: 'boolean', default: false },
    },
  });
  const s = {
    concurrency: Number(values.concurrency),
    seconds: Number(values.seconds ?? (values.quick ? '2' : '10')),
    warmupSeconds: Number(values.warmup ?? (values.quick ? '0.5' : '2')),
    delayMs: Number(values.delay),
  };
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 1024)
    return '--concurrency must be an integer 1..1024';
  if (!(s.seconds >= 0.5 && s.seconds <= 120)) return '--seconds must be 0.5..120';
  if (!(s.warmupSeconds >= 0 && s.warmupSeconds <= 60)) return '--warmup must be 0..60';
  if (!Number.isInteger(s.delayMs) || s.delayMs < 1 || s.delayMs > 10_000)
    return '--delay must be an integer 1..10000 (ms)';
  return s;
}

function startBackend(delayMs: number): Promise<BenchProcess> {
  return startProcess(process.execPath, [BACKEND], {
    label: `backend (DELAY_MS=${delayMs})`,
    cpu: BACKEND_CPU,
    env: { DELAY_MS: String(delayMs) },
    ready: /listening on (http:\/\/[\d.]+:\d+)/,
  });
}

/** Calls each backend answered so far (its /requests counter). */
async function answeredCounts(origins: readonly string[]): Promise<number[]> {
  return Promise.all(origins.map(async (origin) => Number(await (await fetch(`${origin}/requests`)).text())));
}

/** A client under test, built fresh for each measurement so no state carries over between scenarios. */
async function open(client: Client, origins: readonly string[]): Promise<{ d: Dispatcher; url: string }> {
  switch (client) {
    case 'dispatcher': {
      const d = createBalancedDispatcher({
        origin: ORIGIN,
        backends: origins,
        healthCheck: { interval: '500ms', timeout: '400ms' },
        // All three backends start together here; ramping them up would only shift the warm-up.
        slowStart: { window: 0 },
      });
      await d.ready(5_000);
      const deadline = Date.now() + 5_000;
      while (![...d.cluster.backends.all()].every((b) => b.state === 'ready')) {
        if (Date.now() > deadline) throw new Error('not every backend became ready within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return { d, url: `${ORIGIN}${PATH}` };
    }
    case 'balanced-pool':
      return { d: new BalancedPool([...origins]), url: `${ORIGIN}${PATH}` };
    case 'pool':
      return { d: new Pool(origins[0]!), url: `${origins[0]}${PATH}` };
  }
}

async function measure(
  client: Client,
  origins: readonly string[],
  s: Settings,
): Promise<{ result: ClosedLoopResult; shares: number[] }> {
  const { d, url } = await open(client, origins);
  try {
    if (s.warmupSeconds > 0)
      await closedLoop(url, d, { concurrency: s.concurrency, durationMs: s.warmupSeconds * 1000 });
    const before = await answeredCounts(origins);
    const result = await closedLoop(url, d, { concurrency: s.concurrency, durationMs: s.seconds * 1000 });
    const after = await answeredCounts(origins);
    const served = after.map((n, i) => n - before[i]!);
    const total = served.reduce((a, b) => a + b, 0);
    return { result, shares: served.map((n) => n / Math.max(1, total)) };
  } finally {
    await d.close();
  }
}

async function main(): Promise<number> {
  const s = settings();
  if (typeof s === 'string') {
    console.error(`dispatcher: ${s}`);
    return 2;
  }
  const pinned =
    CAN_PIN &&
    spawnSync('taskset', ['-a', '-p', '-c', String(CLIENT_CPU), String(process.pid)], { stdio: 'ignore' })
      .status === 0;
  const list = cpus();
  console.log(
    `machine: ${list.length} CPUs (${list[0]?.model ?? 'unknown'}), Linux ${release()}, Node ${process.version}; ` +
      (pinned
        ? `clients (this process) on CPU ${CLIENT_CPU}, the three backends on CPU ${BACKEND_CPU} (taskset)`
        : 'not pinned (no taskset): clients and backends share the CPUs'),
  );
  const busy = await busyWarning();
  if (busy !== undefined) console.log(busy);
  const scenarios: Scenario[] = [];
  const healthy = await Promise.all([startBackend(0), startBackend(0), startBackend(0)]);
  try {
    const origins = healthy.map((b) => b.match![1]!);
    console.log(`healthy backends: ${origins.join(', ')}`);
    // Every client once, unmeasured: otherwise the first row alone would pay for JIT compilation
    // (of undici's fetch, the dispatcher and the backends).
    for (const client of CLIENTS) await measure(client, origins, { ...s, seconds: s.warmupSeconds || 0.5 });
    const rows: Row[] = [];
    for (const client of CLIENTS) {
      const m = await measure(client, origins, s);
      rows.push({ client, ...m });
      console.log(
        `  healthy ${client}: ${Math.round(m.result.callsPerSecond)} calls/s, p99 ${formatMs(m.result.p99)} ms`,
      );
    }
    scenarios.push({ degraded: false, origins, rows });
  } finally {
    await healthy[2]!.stop();
  }
  const slow = await startBackend(s.delayMs);
  try {
    const origins = [healthy[0]!.match![1]!, healthy[1]!.match![1]!, slow.match![1]!];
    console.log(`degraded: ${origins[2]} answers ${s.delayMs} ms late`);
    const rows: Row[] = [];
    for (const client of ['dispatcher', 'balanced-pool'] as const) {
      const m = await measure(client, origins, s);
      rows.push({ client, ...m });
      console.log(`  degraded ${client}: p99 ${formatMs(m.result.p99)} ms`);
    }
    scenarios.push({ degraded: true, origins, rows });
  } finally {
    await slow.stop();
    for (const b of healthy) await b.stop();
  }
  const command = ['node', 'bench/dispatcher.ts', ...process.argv.slice(2)].join(' ');
  console.log(report(scenarios, { ...s, pinned, command }).join('\n'));
  const failed = scenarios.some((sc) => sc.rows.some((r) => r.result.errors > 0));
  if (failed) console.error('error: some calls failed (see the errors column)');
  return failed ? 1 : 0;
}

runBench('dispatcher', main);
