/**
 * Latency a proxy adds at half of its saturation: each proxy's saturation req/s is measured
 * (wrk -t1 -c64, as in balancer-throughput.ts), then open-loop load at half that rate goes
 * through the proxy and, right after, straight to one backend at the same rate; the difference
 * of the percentiles is what the proxy adds. Same placement as the throughput bench: the proxy
 * alone on CPU 0; wrk, the load generator (this process) and three nginx `return 200` backends
 * on CPU 1. The generator uses lean raw sockets (open-loop-socket-transport.ts): an undici Pool
 * cannot drive HAProxy's half-saturation rate from one core. Prints p50/p99 through the proxy
 * and direct, and the added p50/p99. No target; exits 1 on request errors.
 *
 *   node bench/balancer-added-latency.ts [readykit|haproxy|nginx|naive-undici|http-proxy ...]
 *   node bench/balancer-throughput.ts --added-latency   (reuses the throughput rounds as saturation)
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CAN_PIN, haveCommand } from './balancer-processes.ts';
import {
  busyWarning,
  machineLines,
  type ProxySpec,
  proxyLabel,
  SATURATION_VARIANTS,
  startNginxBackends,
  startProxyOrSkip,
} from './balancer-proxies.ts';
import { wrk } from './balancer-wrk.ts';
import { runBench } from './bench-process.ts';
import { formatMs, type OpenLoopResult, openLoop } from './open-loop-load.ts';
import { socketTransport } from './open-loop-socket-transport.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const CONNECTIONS = 64;
const WARMUP_MS = 1_000;
const MEASURE_MS = 3_000;
const SATURATION_S = 3;
/** The lean generator's ceiling on one shared core here, with margin. */
const MAX_RATE = 40_000;

/** A running proxy and its saturation throughput. */
export interface SaturatedProxy {
  readonly spec: ProxySpec;
  readonly url: string;
  readonly saturation: number;
}

export interface AddedLatencyRow {
  readonly spec: ProxySpec;
  readonly saturation: number;
  readonly rate: number;
  readonly proxied: OpenLoopResult;
  readonly direct: OpenLoopResult;
}

/** Keeps the generator (this process, every thread) off the proxy's CPU. */
export function pinSelfToLoadCpu(): void {
  if (CAN_PIN)
    spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' });
}

async function measure(url: string, rate: number): Promise<OpenLoopResult> {
  const transport = await socketTransport(url, CONNECTIONS);
  try {
    const path = (): string => '/';
    await openLoop(transport, { rate, durationMs: WARMUP_MS, path, graceMs: 5_000 });
    return await openLoop(transport, { rate, durationMs: MEASURE_MS, path, graceMs: 5_000 });
  } finally {
    await transport.close();
  }
}

/** Open-loop at half of each proxy's saturation, through it and then direct to `directOrigin`. */
export async function measureAddedLatency(
  proxies: readonly SaturatedProxy[],
  directOrigin: string,
): Promise<AddedLatencyRow[]> {
  pinSelfToLoadCpu();
  const rows: AddedLatencyRow[] = [];
  for (const p of proxies) {
    const rate = Math.min(MAX_RATE, Math.max(100, Math.round(p.saturation / 2)));
    const proxied = await measure(p.url, rate);
    const direct = await measure(directOrigin, rate);
    rows.push({ spec: p.spec, saturation: p.saturation, rate, proxied, direct });
  }
  return rows;
}

/** The report's table and notes. */
export function addedLatencyReport(rows: readonly AddedLatencyRow[]): string[] {
  const lines = [
    '',
    `## Added latency at half of saturation: open-loop ${MEASURE_MS / 1000} s through the proxy, then direct to one backend`,
    '',
    `lean open-loop generator, ${CONNECTIONS} keep-alive connections, latency from the intended send time; ` +
      `${CAN_PIN ? `proxy on CPU ${PROXY_CPU}, generator and backends on CPU ${LOAD_CPU}` : 'not pinned'}.`,
    '',
    '| proxy | saturation req/s | rate | proxied p50 | proxied p99 | direct p50 | direct p99 | added p50 | added p99 | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${proxyLabel(r.spec)} | ${Math.round(r.saturation)} | ${r.rate} | ${formatMs(r.proxied.p50)} | ${formatMs(r.proxied.p99)} | ` +
        `${formatMs(r.direct.p50)} | ${formatMs(r.direct.p99)} | ${formatMs(r.proxied.p50 - r.direct.p50)} | ` +
        `${formatMs(r.proxied.p99 - r.direct.p99)} | ${r.proxied.errors + r.direct.errors} |`,
    );
  }
  const behind = rows.filter((r) => r.proxied.sendRate < 0.95 * r.rate || r.direct.sendRate < 0.95 * r.rate);
  if (behind.length > 0) {
    lines.push(
      '',
      `warning: the generator fell behind its rate for ${behind.map((r) => proxyLabel(r.spec)).join(', ')}`,
    );
  }
  lines.push('', 'all latencies in ms; "added" = through the proxy minus direct, at the same rate.');
  return lines;
}

async function main(): Promise<number> {
  const { positionals } = parseArgs({ allowPositionals: true });
  console.log(machineLines().join('\n'));
  const busy = await busyWarning();
  if (busy !== undefined) console.log(busy);
  if (!haveCommand('wrk') || !haveCommand('nginx')) {
    console.error(
      'balancer-added-latency: wrk and nginx are needed; run: bash bench/install-balancer-anchors.sh',
    );
    return 1;
  }
  const backends = await startNginxBackends(3, CAN_PIN ? LOAD_CPU : undefined);
  const rows: AddedLatencyRow[] = [];
  try {
    for (const spec of SATURATION_VARIANTS) {
      if (positionals.length > 0 && !positionals.includes(spec.kind)) continue;
      const proxy = await startProxyOrSkip(spec, backends.origins, CAN_PIN ? PROXY_CPU : undefined);
      if (proxy === undefined) continue;
      try {
        await wrk({ url: proxy.url, seconds: 1, connections: CONNECTIONS, cpu: LOAD_CPU });
        const { rps } = await wrk({
          url: proxy.url,
          seconds: SATURATION_S,
          connections: CONNECTIONS,
          cpu: LOAD_CPU,
        });
        rows.push(
          ...(await measureAddedLatency([{ spec, url: proxy.url, saturation: rps }], backends.origins[0]!)),
        );
        console.log(
          `  ${proxyLabel(spec)}: saturation ${Math.round(rps)} req/s, measured at ${rows.at(-1)!.rate}`,
        );
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await backends.stop();
  }
  console.log(addedLatencyReport(rows).join('\n'));
  console.log(
    '\nReproduce: node bench/balancer-added-latency.ts   (anchors: bash bench/install-balancer-anchors.sh)',
  );
  const failed = rows.some((r) => r.proxied.errors + r.direct.errors > 0);
  if (failed) console.error('error: some requests failed (see the errors column)');
  return failed ? 1 : 0;
}

if (import.meta.main) runBench('balancer-added-latency', main);
