/**
 * Throughput of one Express 5 JSON route with and without readykit, side by side in one
 * run: bare Express, Express + one empty middleware (what Express charges for any layer),
 * one AsyncLocalStorage context per request (what carrying any context across awaits costs)
 * and the same through the OpenTelemetry context API, propagation only (@readykit/tracing),
 * Express + `readykit()` (defaults: health, metrics, propagation), the same with the load
 * report header on (`metrics: { loadReport: true }`), Express + express-prom-bundle (the
 * metrics middleware users pick today), and full OpenTelemetry with 10 % sampling and an OTLP
 * exporter: readykit in SDK mode (`--import @readykit/tracing/register`) next to plain
 * `@opentelemetry/sdk-node` with HTTP + Express instrumentation. The exporter sends to a
 * loopback OTLP sink run by this process. Each server runs alone on CPU 0; wrk runs on CPU 1
 * (`wrk -t1 -c64`, as in the anchors measured for this project). Variants are measured in
 * interleaved rounds (A B C, A B C, ...) and the median round is reported, so drift hits
 * them alike. Prints req/s, the ratio to bare Express, and wrk's p50/p99.
 *
 *   npm run bench            (at the repository root), or: node bench/express-overhead.ts
 *   node bench/express-overhead.ts bare propagation   (only these variants; bare is always kept)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CAN_PIN, haveCommand } from './balancer-processes.ts';
import { type WrkResult, wrk } from './balancer-wrk.ts';
import { runBench } from './bench-process.ts';
import {
  type ExpressServerProcess,
  startExpressServer,
  stopExpressServer,
} from './express-server-process.ts';
import { VARIANTS, type Variant } from './express-variants.ts';

const ROUNDS = 3;
const WARMUP_S = 2;
const DURATION_S = 5;
const CONNECTIONS = 64;
const TARGET_RATIO = 0.9;
const PROPAGATION_TARGET_RATIO = 0.95;
const SAMPLING_RATIO = '0.1';
const SCRIPT = fileURLToPath(new URL('./items.lua', import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;

/** Accepts OTLP/HTTP exports and drops them: the SDK variants pay for exporting, not for a backend. */
async function startOtlpSink(): Promise<{ server: Server; url: string; exports: () => number }> {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.setHeader('content-type', 'application/x-protobuf');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
  };
}

/** The SDK variants export to `otlpUrl`, sampling SAMPLING_RATIO of traces. */
function startServer(variant: Variant, otlpUrl: string): Promise<ExpressServerProcess> {
  return startExpressServer(variant, SERVER_CPU, {
    OTEL_SERVICE_NAME: `bench-${variant}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: SAMPLING_RATIO,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  });
}

function load(server: ExpressServerProcess, seconds: number): Promise<WrkResult> {
  return wrk({ url: server.url, seconds, connections: CONNECTIONS, cpu: LOAD_CPU, script: SCRIPT });
}

function median<T>(values: readonly T[], key: (v: T) => number): T {
  const sorted = [...values].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The variants named on the command line (bare always included, report order kept), or all. */
function selectedVariants(names: readonly string[]): readonly Variant[] | undefined {
  if (names.length === 0) return VARIANTS;
  const unknown = names.filter((n) => !(VARIANTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    console.error(
      `express-overhead: unknown variant ${JSON.stringify(unknown[0]!.slice(0, 40))}; one of ${VARIANTS.join(', ')}`,
    );
    return undefined;
  }
  return VARIANTS.filter((v) => v === 'bare' || names.includes(v));
}

async function main(): Promise<number> {
  const variants = selectedVariants(process.argv.slice(2));
  if (variants === undefined) return 2;
  if (!haveCommand('wrk', '--version')) {
    console.error(
      'express-overhead: wrk is not installed. It comes from Debian: apt-get install wrk. Skipping this benchmark.',
    );
    return 1;
  }
  const servers = new Map<Variant, ExpressServerProcess>();
  const sink = await startOtlpSink();
  try {
    for (const variant of variants) {
      const server = await startServer(variant, sink.url);
      servers.set(variant, server);
      await load(server, WARMUP_S);
    }
    const results = new Map<Variant, WrkResult[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(round + i) % variants.length]!;
        results.get(variant)!.push(await load(servers.get(variant)!, DURATION_S));
        await sleep(200);
      }
    }
    const bare = median(results.get('bare')!, (r) => r.rps).rps;
    const lines = [
      '',
      `## Express 5, one JSON route (GET /api/items/:id, ids varying), wrk -t1 -c${CONNECTIONS}, ${DURATION_S} s rounds`,
      '',
      `Node ${process.version}; ${CAN_PIN ? 'server pinned to CPU 0, wrk to CPU 1 (taskset)' : 'not pinned'}; ` +
        `${ROUNDS} interleaved rounds per variant after ${WARMUP_S} s of warm-up each; median round by req/s.`,
      '',
      '| variant | req/s | ratio to bare | p50 ms | p99 ms | errors |',
      '|---|---:|---:|---:|---:|---:|',
    ];
    for (const variant of variants) {
      const all = results.get(variant)!;
      const r = median(all, (x) => x.rps);
      const errors = all.reduce((a, x) => a + x.errors, 0);
      lines.push(
        `| ${variant} | ${Math.round(r.rps)} | ${(r.rps / bare).toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${errors} |`,
      );
    }
    const ratioOf = (variant: Variant) => median(results.get(variant)!, (x) => x.rps).rps / bare;
    const verdict = (ratio: number, target: number) =>
      `${ratio >= target ? 'met' : 'NOT met'} (${ratio.toFixed(2)})`;
    const has = (variant: Variant) => variants.includes(variant);
    lines.push('');
    if (has('propagation')) {
      lines.push(
        `target propagation >= ${PROPAGATION_TARGET_RATIO.toFixed(2)} of bare Express: ${verdict(ratioOf('propagation'), PROPAGATION_TARGET_RATIO)}`,
      );
    }
    if (has('readykit')) {
      lines.push(
        `target readykit >= ${TARGET_RATIO.toFixed(2)} of bare Express: ${verdict(ratioOf('readykit'), TARGET_RATIO)}`,
      );
    }
    if (has('empty-middleware')) {
      lines.push(
        `for comparison, one empty middleware: ${ratioOf('empty-middleware').toFixed(2)} of bare Express`,
      );
    }
    if (has('readykit-otel-sdk') && has('otel-sdk')) {
      lines.push(
        `full SDK, ${Number(SAMPLING_RATIO) * 100} % sampled, OTLP export: readykit ${ratioOf('readykit-otel-sdk').toFixed(2)}, ` +
          `plain sdk-node ${ratioOf('otel-sdk').toFixed(2)} of bare Express (${sink.exports()} OTLP exports received)`,
      );
    }
    lines.push('', 'Reproduce: npm run bench   (at the repo root), or node bench/express-overhead.ts');
    console.log(lines.join('\n'));
    const failed = [...results.values()].flat().some((r) => r.errors > 0);
    if (failed) console.error('error: some requests failed (see the errors column)');
    return failed ? 1 : 0;
  } finally {
    for (const server of servers.values()) await stopExpressServer(server);
    sink.server.close();
  }
}

runBench('express-overhead', main);
