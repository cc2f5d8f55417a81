/**
 * One degraded backend: three example-service backends (examples/service, Express + readykit),
 * one answering its /api routes 50 ms late, behind each proxy in turn; open-loop load at a fixed
 * rate (4 000 req/s for 10 s, as in ../shared/reference/measured-anchors.md) on
 * `GET /api/items/:id`, latency from each request's intended send time (open-loop-load.ts).
 * Proxies: readykit-balancer p2c-ewma, nginx round robin and least_conn, HAProxy roundrobin,
 * leastconn and random(2). Prints p50/p90/p99 per proxy and whether readykit's p99 is at most
 * 0.2 x the best nginx and the best HAProxy p99 (PASS/FAIL). Exits 1 on request errors, never
 * on a missed target.
 *
 *   node bench/balancer-degraded.ts [--rate auto|4000] [--seconds 10] [--diagnose] [readykit|nginx|haproxy|naive-undici ...]
 *
 * --rate auto (the default) first finds the highest of 4 000, 3 000, 2 000, 1 500, 1 000 req/s that
 * readykit-balancer sustains on this machine (see sustainableRate) and measures every proxy at it.
 *
 * --diagnose adds readykit round-robin and the naive undici proxy (round robin, no features): the
 * same slow backend without latency-aware balancing, to tell balancing from proxy overhead.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchProcess, haveCommand, startProcess } from './balancer-processes.ts';
import {
  busyWarning,
  machineLines,
  type ProxySpec,
  proxyLabel,
  requestShares,
  startProxy,
  startProxyOrSkip,
} from './balancer-proxies.ts';
import { runBench } from './bench-process.ts';
import { formatMs, type OpenLoopResult, openLoop, undiciTransport } from './open-loop-load.ts';

const SERVICE = fileURLToPath(new URL('../examples/service/src/server.ts', import.meta.url));
const SLOW_MS = 50;
/**
 * Each proxy's unmeasured warm-up at the measured rate: JIT for the Node proxies, and time for
 * latency estimates to forget the first, cold requests (peak EWMA keeps a peak for seconds).
 */
const WARMUP_S = 5;
/** Before any proxy, the backends are warmed directly this long, so the first proxy measured does not meet cold Express processes. */
const BACKEND_WARMUP_MS = 3_000;
const TARGET_RATIO = 0.2;
/** --rate auto tries these, highest first (the anchors' 4 000 req/s first). */
const RATES = [4_000, 3_000, 2_000, 1_500, 1_000];
const CALIBRATION_MS = 2_000;

const VARIANTS: readonly ProxySpec[] = [
  { kind: 'readykit', algorithm: 'p2c-ewma' },
  { kind: 'nginx', method: 'round-robin' },
  { kind: 'nginx', method: 'least_conn' },
  { kind: 'haproxy', balance: 'roundrobin' },
  { kind: 'haproxy', balance: 'leastconn' },
  { kind: 'haproxy', balance: 'random(2)' },
];

/** With --diagnose: separates readykit's balancing from its proxy engine's capacity. */
const DIAGNOSTIC_VARIANTS: readonly ProxySpec[] = [
  { kind: 'readykit', algorithm: 'round-robin' },
  { kind: 'naive-undici' },
];

interface Row {
  readonly spec: ProxySpec;
  readonly result: OpenLoopResult;
  /** readykit only: each backend's share of the requests (warm-up included), slow one last. */
  readonly shares: string | undefined;
}

/** The example service on a free loopback port, answering /api `latencyMs` late. */
function startService(latencyMs: number): Promise<BenchProcess> {
  return startProcess(process.execPath, [SERVICE], {
    label: `example service (LATENCY_MS=${latencyMs})`,
    env: { PORT: '0', HOST: '127.0.0.1', WARMUP_MS: '0', LATENCY_MS: String(latencyMs) },
    ready: /listening on (http:\/\/[\d.]+:\d+)/,
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      rate: { type: 'string', default: 'auto' },
      seconds: { type: 'string', default: '10' },
      diagnose: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const fixedRate = values.rate === 'auto' ? undefined : Number(values.rate);
  const seconds = Number(values.seconds);
  if (
    !((fixedRate === undefined || (fixedRate >= 100 && fixedRate <= 50_000)) && seconds >= 1 && seconds <= 60)
  ) {
    console.error('balancer-degraded: --rate must be auto or 100..50000, and --seconds 1..60');
    return 2;
  }
  console.log(machineLines().join('\n'));
  const busy = await busyWarning();
  if (busy !== undefined) console.log(busy);
  if (!haveCommand('nginx') || !haveCommand('haproxy')) {
    console.log('note: nginx or HAProxy missing; run: bash bench/install-balancer-anchors.sh');
  }
  const services = await Promise.all([startService(0), startService(0), startService(SLOW_MS)]);
  const rows: Row[] = [];
  let rate = fixedRate ?? RATES[0]!;
  try {
    const origins = services.map((s) => s.match![1]!);
    console.log(`backends: ${origins.join(', ')} (the last answers /api ${SLOW_MS} ms late)`);
    await warmBackends(origins, rate);
    if (fixedRate === undefined) rate = await sustainableRate(origins);
    for (const spec of values.diagnose ? [...VARIANTS, ...DIAGNOSTIC_VARIANTS] : VARIANTS) {
      if (positionals.length > 0 && !positionals.includes(spec.kind)) continue;
      const proxy = await startProxyOrSkip(spec, origins, undefined);
      if (proxy === undefined) continue;
      const transport = undiciTransport(proxy.url);
      try {
        await openLoop(transport, { rate, durationMs: WARMUP_S * 1000 });
        const result = await openLoop(transport, { rate, durationMs: seconds * 1000 });
        const shares = await requestShares(proxy);
        rows.push({ spec, result, shares });
        console.log(`  ${proxyLabel(spec)}: p99 ${formatMs(result.p99)} ms`);
      } finally {
        await transport.close();
        await proxy.stop();
      }
    }
  } finally {
    for (const s of services) await s.stop();
  }
  console.log(report(rows, rate, seconds).join('\n'));
  const failed = rows.some((r) => r.result.errors > 0);
  if (failed) console.error('error: some requests failed (see the errors column)');
  return failed ? 1 : 0;
}

/** Open-loop straight to each backend, a third of `rate` each, all at once. */
async function warmBackends(origins: readonly string[], rate: number): Promise<void> {
  await Promise.all(
    origins.map(async (origin) => {
      const transport = undiciTransport(origin);
      try {
        await openLoop(transport, { rate: rate / origins.length, durationMs: BACKEND_WARMUP_MS });
      } finally {
        await transport.close();
      }
    }),
  );
}

/**
 * The highest of {@link RATES} this machine sustains through a Node proxy: readykit-balancer
 * p2c-ewma when built (else the naive undici proxy) must answer 97 % of it with p50 <= 10 ms.
 * On 2 shared cores, 4 000 req/s can exceed a Node proxy's capacity next to three Express backends
 * and the generator; its latencies would then measure queueing, not balancing.
 */
async function sustainableRate(origins: readonly string[]): Promise<number> {
  const readykit: ProxySpec = { kind: 'readykit', algorithm: 'p2c-ewma' };
  const naive: ProxySpec = { kind: 'naive-undici' };
  const started = await startProxyOrSkip(readykit, origins, undefined);
  const spec = started === undefined ? naive : readykit;
  const proxy = started ?? (await startProxy(naive, origins, undefined));
  const transport = undiciTransport(proxy.url);
  try {
    for (const rate of RATES) {
      await openLoop(transport, { rate, durationMs: 1_000 });
      const r = await openLoop(transport, { rate, durationMs: CALIBRATION_MS });
      const kept = r.achievedRate >= 0.97 * rate && r.p50 <= 10;
      console.log(
        `rate ${rate} req/s through ${proxyLabel(spec)}: ${Math.round(r.achievedRate)} 2xx req/s, p50 ${formatMs(r.p50)} ms` +
          ` -> ${kept ? 'sustained' : 'not sustained'}`,
      );
      if (kept) return rate;
    }
    return RATES[RATES.length - 1]!;
  } finally {
    await transport.close();
    await proxy.stop();
  }
}

function report(rows: readonly Row[], rate: number, seconds: number): string[] {
  const lines = [
    '',
    `## One degraded backend (3 example services, one ${SLOW_MS} ms late), open-loop ${rate} req/s for ${seconds} s`,
    '',
    `GET /api/items/:id; latency from each request's intended send time; backends warmed directly, then ${WARMUP_S} s of warm-up ` +
      'through each proxy at the same rate; nothing pinned.',
    '',
    '| proxy | p50 ms | p90 ms | p99 ms | max ms | sent req/s | 2xx req/s | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { spec, result: r } of rows) {
    lines.push(
      `| ${proxyLabel(spec)} | ${formatMs(r.p50)} | ${formatMs(r.p90)} | ${formatMs(r.p99)} | ${formatMs(r.max)} | ` +
        `${Math.round(r.sendRate)} | ${Math.round(r.achievedRate)} | ${r.errors} |`,
    );
  }
  lines.push('');
  for (const { spec, shares } of rows) {
    if (shares !== undefined)
      lines.push(`${proxyLabel(spec)} requests per backend (fast / fast / slow): ${shares}`);
  }
  const behind = rows.filter((r) => r.result.sendRate < 0.95 * rate);
  if (behind.length > 0) {
    lines.push(
      `warning: the load generator fell behind ${rate} req/s (${behind.map((r) => proxyLabel(r.spec)).join(', ')}); ` +
        'its lateness is in the latencies; try a lower --rate',
    );
  }
  const saturated = rows.filter((r) => r.result.achievedRate < 0.95 * rate);
  if (saturated.length > 0) {
    lines.push(
      `warning: ${saturated.map((r) => proxyLabel(r.spec)).join(', ')} could not keep up with ${rate} req/s on this machine ` +
        '(2xx req/s column): their latencies measure queueing, not balancing; compare at a lower --rate too',
    );
  }
  const best = (kind: ProxySpec['kind']) =>
    Math.min(...rows.filter((r) => r.spec.kind === kind).map((r) => r.result.p99));
  const readykit = rows.find((r) => r.spec.kind === 'readykit' && r.spec.algorithm === 'p2c-ewma');
  if (readykit === undefined) {
    lines.push(
      `target readykit p99 <= ${TARGET_RATIO} x best nginx and HAProxy p99: not measured (readykit-balancer skipped)`,
    );
  } else {
    for (const kind of ['nginx', 'haproxy'] as const) {
      const anchor = best(kind);
      if (!Number.isFinite(anchor)) continue;
      const ratio = readykit.result.p99 / anchor;
      lines.push(
        `target readykit p99 <= ${TARGET_RATIO} x best ${kind === 'nginx' ? 'nginx' : 'HAProxy'} p99 (${formatMs(anchor)} ms): ` +
          `${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'} (${Number.isFinite(ratio) ? ratio.toFixed(2) : 'failed'})`,
      );
    }
  }
  lines.push(
    '',
    'Reproduce: node bench/balancer-degraded.ts   (anchors: bash bench/install-balancer-anchors.sh)',
  );
  return lines;
}

runBench('balancer-degraded', main);
