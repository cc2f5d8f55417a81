import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  CLUSTER_EXPECTED_METRIC,
  CLUSTER_RESPONDING_METRIC,
  CLUSTER_SCRAPE_REQUEST,
  CLUSTER_SCRAPE_RESPONSE,
  type ClusterChannel,
  createClusterAggregator,
  serveClusterScrapes,
} from '../src/cluster-metrics.ts';
import { createMetrics, ErrorCodes } from '../src/index.ts';
import { serve } from './support.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));
const TIMEOUT_MS = 500;

interface App {
  readonly app: number;
  readonly metrics: number;
  readonly child: ChildProcess;
}

/** Starts the fixture (a primary and two workers); killed with its workers when the test ends. */
async function startApp(t: { after(fn: () => Promise<void>): void }): Promise<App> {
  const child = spawn(process.execPath, ['--conditions=readykit-source', FIXTURE], {
    // stdin is a pipe: should this process die, its end makes the fixture stop too.
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, CLUSTER_APP_WORKERS: '2', CLUSTER_APP_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  const ports = await new Promise<{ app: number; metrics: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = /^READY (.*)$/m.exec(out);
      if (line) resolve(JSON.parse(line[1]!));
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early: ${code}`)));
  });
  return { ...ports, child };
}

/** One request on a connection of its own, so cluster's round-robin spreads them over workers. */
function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject).end();
  });
}

/** The sum of every sample of `name` (any labels) in a text exposition. */
function total(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name) sum += Number(m[3]);
  }
  return sum;
}

test('two real workers: one scrape of the primary sums their request counts', {
  timeout: 10_000,
}, async (t) => {
  const app = await startApp(t);
  const N = 20;
  const served = await Promise.all(Array.from({ length: N }, () => get(app.app, '/hello')));
  const byWorker = new Map<number, number>();
  for (const { body } of served) {
    const { worker } = JSON.parse(body) as { worker: number };
    byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
  }
  assert.equal(byWorker.size, 2, 'round-robin reached both workers');

  const scrape = await get(app.metrics, '/metrics');
  assert.equal(scrape.status, 200);
  assert.equal(scrape.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(total(scrape.body, 'http_requests_total'), N);
  assert.equal(total(scrape.body, 'http_request_duration_seconds_count'), N);
  assert.match(scrape.body, /^http_requests_total\{method="GET",route="unmatched",status_code="200"\} 20$/m);
  assert.match(scrape.body, /^http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} 20$/m);
  assert.match(scrape.body, /^# TYPE http_requests_total counter$/m);
  assert.equal(total(scrape.body, CLUSTER_RESPONDING_METRIC), 2);
  assert.equal(total(scrape.body, CLUSTER_EXPECTED_METRIC), 2);

  const om = await get(app.metrics, '/metrics', { Accept: 'application/openmetrics-text; version=1.0.0' });
  assert.equal(om.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.match(om.body, /^# TYPE http_requests counter$/m);
  assert.match(om.body, /# EOF\n$/);
  assert.equal(total(om.body, 'http_requests_total'), N);
});

test('a stuck worker is left out after the timeout, and counted', { timeout: 10_000 }, async (t) => {
  const app = await startApp(t);
  const served = await Promise.all(Array.from({ length: 10 }, () => get(app.app, '/hello')));
  const blocked = await get(app.app, '/block?ms=4000');
  const stuck = (JSON.parse(blocked.body) as { worker: number }).worker;
  const others = served.filter(
    ({ body }) => (JSON.parse(body) as { worker: number }).worker !== stuck,
  ).length;
  assert.ok(others > 0 && others < 10, `both workers served requests (${others} by the free one)`);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the blocking loop starts

  const started = performance.now();
  const scrape = await get(app.metrics, '/metrics');
  const elapsed = performance.now() - started;
  assert.equal(scrape.status, 200);
  assert.ok(elapsed >= TIMEOUT_MS - 50, `waited for the stuck worker (${elapsed.toFixed(0)} ms)`);
  assert.ok(elapsed < TIMEOUT_MS + 700, `answered within the timeout (${elapsed.toFixed(0)} ms)`);
  assert.equal(total(scrape.body, CLUSTER_RESPONDING_METRIC), 1);
  assert.equal(total(scrape.body, CLUSTER_EXPECTED_METRIC), 2);
  assert.equal(total(scrape.body, 'http_requests_total'), others, "only the free worker's requests");
});

/** A worker's IPC side and the primary's cluster, joined in memory. */
function fakeCluster(workerCount: number) {
  const primary = new EventEmitter();
  const channels: (ClusterChannel & { emit(e: 'message', m: unknown): boolean })[] = [];
  const workers: Record<string, unknown> = {};
  for (let id = 1; id <= workerCount; id++) {
    const worker = {
      id,
      isConnected: () => true,
      send: (message: unknown, _h: unknown, _o: unknown, cb: (e: Error | null) => void) => {
        setImmediate(() => channel.emit('message', message));
        cb(null);
        return true;
      },
    };
    const channel = Object.assign(new EventEmitter(), {
      connected: true,
      send: (message: unknown, _h: unknown, _o: unknown, cb: (e: Error | null) => void) => {
        setImmediate(() => primary.emit('message', worker, message));
        cb(null);
        return true;
      },
    });
    workers[id] = worker;
    channels.push(channel);
  }
  return { primary: Object.assign(primary, { workers }) as never, channels };
}

test('in memory: aggregators, the primary registry, unrelated messages and stop()', async () => {
  const { primary, channels } = fakeCluster(2);
  const registries = channels.map((_c, i) => {
    const registry = new Registry();
    new Counter({ name: 'jobs_total', help: 'Jobs.', registers: [registry] }).inc(i + 1);
    // A gauge sums by default; the ELU ratio is averaged (DEFAULT_CLUSTER_AGGREGATORS).
    new Gauge({ name: 'nodejs_eventloop_utilization', help: 'ELU.', registers: [registry] }).set(
      0.25 * (i + 1),
    );
    return registry;
  });
  const stops = channels.map((channel, i) => serveClusterScrapes({ registry: registries[i]! }, channel));
  const own = new Registry();
  new Counter({ name: 'primary_total', help: 'Primary.', registers: [own] }).inc(7);
  const aggregator = createClusterAggregator({ timeoutMs: 200, registry: own }, primary);

  // Unrelated messages on both sides are ignored.
  channels[0]!.emit('message', { type: 'something-else', id: 'x' });
  channels[0]!.emit('message', 'hello');
  (primary as EventEmitter).emit('message', { id: 9 }, { type: CLUSTER_SCRAPE_RESPONSE, id: 'unknown' });

  const text = await aggregator.scrape();
  assert.equal(total(text, 'jobs_total'), 3);
  assert.equal(total(text, 'nodejs_eventloop_utilization'), 0.375);
  assert.equal(total(text, 'primary_total'), 7);
  assert.equal(total(text, CLUSTER_RESPONDING_METRIC), 2);
  assert.equal((primary as EventEmitter).listenerCount('message'), 0, 'listener removed once done');

  stops[1]!();
  stops[1]!();
  const started = performance.now();
  const partial = await aggregator.scrape();
  assert.ok(performance.now() - started >= 190);
  assert.equal(total(partial, 'jobs_total'), 1);
  assert.equal(total(partial, CLUSTER_RESPONDING_METRIC), 1);
  assert.equal(total(partial, CLUSTER_EXPECTED_METRIC), 2);
  stops[0]!();
});

test('in memory: a worker whose collection fails counts as not responding', async () => {
  const { primary, channels } = fakeCluster(1);
  const broken = { getMetricsAsJSON: () => Promise.reject(new Error('boom')) } as unknown as Registry;
  const stop = serveClusterScrapes(broken, channels[0]);
  const text = await createClusterAggregator({}, primary).scrape();
  assert.equal(total(text, CLUSTER_RESPONDING_METRIC), 0);
  assert.equal(total(text, CLUSTER_EXPECTED_METRIC), 1);
  stop();
});

test('outside a cluster: no workers, handle() routing, options checked', async (t) => {
  const aggregator = createClusterAggregator();
  assert.equal(aggregator.timeoutMs, 1000);
  assert.equal(
    await aggregator.scrape(),
    [
      `# HELP ${CLUSTER_RESPONDING_METRIC} Cluster workers whose metrics are in this scrape.`,
      `# TYPE ${CLUSTER_RESPONDING_METRIC} gauge`,
      `${CLUSTER_RESPONDING_METRIC} 0`,
      `# HELP ${CLUSTER_EXPECTED_METRIC} Live cluster workers asked for their metrics by this scrape.`,
      `# TYPE ${CLUSTER_EXPECTED_METRIC} gauge`,
      `${CLUSTER_EXPECTED_METRIC} 0`,
      '',
    ].join('\n'),
  );
  // Not a worker: serving is a no-op.
  serveClusterScrapes(createMetrics({ runtime: false }))();

  const served = await serve((req, res) => {
    if (!aggregator.handle(req, res)) res.writeHead(404).end();
  });
  t.after(() => served.close());
  const port = Number(new URL(served.url).port);
  assert.equal((await get(port, '/metrics?x=1')).status, 200);
  assert.equal((await get(port, '/other')).status, 404);
  const post = await new Promise<number>((resolve) =>
    request({ port, host: '127.0.0.1', method: 'POST', path: '/metrics', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).end(),
  );
  assert.equal(post, 405);

  for (const options of [{ timeoutMs: 0 }, { aggregators: { x: 'median' } }, { registry: {} }, { nope: 1 }]) {
    assert.throws(() => createClusterAggregator(options as never), { code: ErrorCodes.INVALID_OPTION });
  }
  assert.throws(() => serveClusterScrapes({} as never), { code: ErrorCodes.INVALID_OPTION });
  assert.equal(CLUSTER_SCRAPE_REQUEST.startsWith('readykit:'), true);
});
