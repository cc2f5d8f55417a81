/**
 * Throughput through one proxy process, side by side in one run, as the anchors were measured
 * (../shared/reference/measured-anchors.md): the proxy pinned to CPU 0, `wrk -t1 -c64 -d8s` pinned
 * to CPU 1, three nginx `return 200` backends that are not the bottleneck. Proxies:
 * readykit-balancer (p2c-ewma, round-robin), HAProxy (nbthread 1, roundrobin, http-reuse always),
 * nginx (1 worker, upstream keepalive 64), node-http-proxy 1.18 with a keep-alive agent, and a
 * naive undici Pool proxy. Each is warmed for 2 s, then measured in interleaved rounds (order
 * rotating) so drift hits all alike. Prints req/s (mean of the rounds), p50, p99, the ratio to
 * HAProxy, and whether readykit reaches its target (>= 0.5 x HAProxy). Exits 1 on request errors,
 * never on a missed target; variants that cannot run here are skipped with the reason.
 *
 *   node bench/balancer-throughput.ts [--seconds 8] [--rounds 2] [--added-latency] [readykit|haproxy|nginx|naive-undici|http-proxy ...]
 *
 * --added-latency then measures each proxy's added latency at half of the saturation just
 * measured (balancer-added-latency.ts); naming proxies measures only those.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type AddedLatencyRow, addedLatencyReport, measureAddedLatency } from './balancer-added-latency.ts';
import { CAN_PIN, haveCommand } from './balancer-processes.ts';
import {
  busyWarning,
  machineLines,
  type ProxySpec,
  proxyLabel,
  type RunningProxy,
  SATURATION_VARIANTS,
  startNginxBackends,
  startProxyOrSkip,
} from './balancer-proxies.ts';
import { type WrkResult, wrk } from './balancer-wrk.ts';
import { runBench } from './bench-process.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
/**
 * The backends share CPU 1 with wrk: CPU 0 belongs to the proxy alone, as "one proxy process
 * pinned to core 0" means. nginx `return 200` costs little next to wrk, so they stay ahead.
 */
const BACKEND_CPU = 1;
const CONNECTIONS = 64;
const WARMUP_S = 2;
const TARGET_RATIO = 0.5;

interface Measured {
  readonly spec: ProxySpec;
  readonly proxy: RunningProxy;
  readonly rounds: WrkResult[];
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '2' },
      'added-latency': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const seconds = Number(values.seconds);
  const roundCount = Number(values.rounds);
  if (!(seconds >= 1 && seconds <= 60 && roundCount >= 1 && roundCount <= 5)) {
    console.error('balancer-throughput: --seconds must be 1..60 and --rounds 1..5');
    return 2;
  }
  console.log(machineLines().join('\n'));
  const busy = await busyWarning();
  if (busy !== undefined) console.log(busy);
  if (!haveCommand('wrk')) {
    console.error('balancer-throughput: wrk is not installed; run: bash bench/install-balancer-anchors.sh');
    return 1;
  }
  if (!haveCommand('nginx')) {
    console.error(
      'balancer-throughput: nginx is needed for the backends; run: bash bench/install-balancer-anchors.sh',
    );
    return 1;
  }
  const backends = await startNginxBackends(3, CAN_PIN ? BACKEND_CPU : undefined);
  const measured: Measured[] = [];
  let addedRows: AddedLatencyRow[] = [];
  try {
    for (const spec of SATURATION_VARIANTS) {
      if (positionals.length > 0 && !positionals.includes(spec.kind)) continue;
      const proxy = await startProxyOrSkip(spec, backends.origins, CAN_PIN ? PROXY_CPU : undefined);
      if (proxy === undefined) continue;
      measured.push({ spec, proxy, rounds: [] });
      await wrk({ url: proxy.url, seconds: WARMUP_S, connections: CONNECTIONS, cpu: LOAD_CPU });
    }
    const total = measured.length * roundCount * seconds;
    console.log(
      `measuring ${measured.length} proxies, ${roundCount} rounds of ${seconds} s each (about ${total} s)`,
    );
    for (let round = 0; round < roundCount; round++) {
      for (let i = 0; i < measured.length; i++) {
        const m = measured[(round + i) % measured.length]!;
        m.rounds.push(await wrk({ url: m.proxy.url, seconds, connections: CONNECTIONS, cpu: LOAD_CPU }));
        await sleep(200);
      }
    }
    if (values['added-latency']) {
      const saturated = measured.map((m) => ({
        spec: m.spec,
        url: m.proxy.url,
        saturation: mean(m.rounds.map((r) => r.rps)),
      }));
      console.log(`measuring added latency at half of each saturation (about ${measured.length * 8} s)`);
      addedRows = await measureAddedLatency(saturated, backends.origins[0]!);
    }
  } finally {
    for (const m of measured) await m.proxy.stop();
    await backends.stop();
  }
  console.log(report(measured, seconds, roundCount).join('\n'));
  if (addedRows.length > 0) console.log(addedLatencyReport(addedRows).join('\n'));
  const failed =
    measured.some((m) => m.rounds.some((r) => r.errors > 0)) ||
    addedRows.some((r) => r.proxied.errors + r.direct.errors > 0);
  if (failed) console.error('error: some requests failed (see the errors column)');
  return failed ? 1 : 0;
}

function report(measured: readonly Measured[], seconds: number, roundCount: number): string[] {
  const rps = (m: Measured) => mean(m.rounds.map((r) => r.rps));
  const haproxy = measured.find((m) => m.spec.kind === 'haproxy');
  const base = haproxy === undefined ? Number.NaN : rps(haproxy);
  const lines = [
    '',
    `## Proxy throughput: wrk -t1 -c${CONNECTIONS} -d${seconds}s, 3 nginx return-200 backends`,
    '',
    `${CAN_PIN ? `proxy pinned to CPU ${PROXY_CPU}, wrk and backends to CPU ${LOAD_CPU}` : 'not pinned (no taskset)'}; ` +
      `${roundCount} interleaved rounds after ${WARMUP_S} s of warm-up; req/s, p50 and p99 are means of the rounds.`,
    '',
    '| proxy | req/s | p50 ms | p99 ms | ratio to HAProxy | rounds (req/s) | errors |',
    '|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const m of measured) {
    const r = rps(m);
    lines.push(
      `| ${proxyLabel(m.spec)} | ${Math.round(r)} | ${mean(m.rounds.map((x) => x.p50)).toFixed(2)} | ` +
        `${mean(m.rounds.map((x) => x.p99)).toFixed(2)} | ${(r / base).toFixed(2)} | ` +
        `${m.rounds.map((x) => Math.round(x.rps)).join(' / ')} | ${m.rounds.reduce((a, x) => a + x.errors, 0)} |`,
    );
  }
  lines.push('');
  const naive = measured.find((m) => m.spec.kind === 'naive-undici');
  if (naive !== undefined) {
    lines.push(
      `for scale: the naive undici Pool proxy, the floor any node:http + undici proxy pays, reaches ${(rps(naive) / base).toFixed(2)} x HAProxy here`,
    );
  }
  const readykit = measured.filter((m) => m.spec.kind === 'readykit');
  if (readykit.length === 0)
    lines.push(`target readykit >= ${TARGET_RATIO} x HAProxy: not measured (readykit-balancer skipped)`);
  for (const m of readykit) {
    const ratio = rps(m) / base;
    const ofNaive = naive === undefined ? '' : `; ${(rps(m) / rps(naive)).toFixed(2)} x the naive proxy`;
    lines.push(
      `target ${proxyLabel(m.spec)} >= ${TARGET_RATIO} x HAProxy req/s: ${ratio >= TARGET_RATIO ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)}${ofNaive})`,
    );
  }
  lines.push(
    '',
    'Reproduce: node bench/balancer-throughput.ts [--added-latency]   (anchors: bash bench/install-balancer-anchors.sh)',
  );
  return lines;
}

runBench('balancer-throughput', main);
