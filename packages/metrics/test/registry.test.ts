import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, collectDefaultMetrics, register as globalRegistry, Registry } from 'prom-client';
import { createMetrics, ErrorCodes, type Metrics } from '../src/index.ts';
import { find, parseExposition, scrapeSamples, value } from './support.ts';

const instances: Metrics[] = [];
function metrics(...args: Parameters<typeof createMetrics>): Metrics {
  const m = createMetrics(...args);
  instances.push(m);
  return m;
}
test.afterEach(async () => {
  await Promise.all(instances.splice(0).map((m) => m.close()));
});

test('each instance has its own registry, never the global one', () => {
  const before = globalRegistry.getMetricsAsArray().length;
  const a = metrics();
  const b = metrics();
  assert.notEqual(a.registry, b.registry);
  assert.notEqual(a.registry, globalRegistry);
  assert.equal(globalRegistry.getMetricsAsArray().length, before);
  assert.ok(a.registry.getSingleMetric('http_requests_total'));
});

test('constructing twice in one process works, with and without runtime metrics', async () => {
  const a = metrics();
  const b = metrics();
  const c = metrics({ runtime: false });
  for (const m of [a, b, c]) {
    const samples = await scrapeSamples(m);
    assert.equal(value(samples, 'http_requests_in_flight', { method: 'GET' }), 0);
  }
  // Runtime metrics are the same objects in every instance: collectDefaultMetrics ran once.
  assert.equal(
    a.registry.getSingleMetric('process_cpu_seconds_total'),
    b.registry.getSingleMetric('process_cpu_seconds_total'),
  );
  assert.equal(c.registry.getSingleMetric('process_cpu_seconds_total'), undefined);
});

test('a shared registry: the newest instance takes over its names, no "already registered"', async () => {
  const registry = new Registry();
  const first = metrics({ registry, runtime: false });
  const second = metrics({ registry, runtime: false });
  assert.equal(second.registry, registry);
  assert.notEqual(registry.getSingleMetric('http_requests_total'), undefined);
  const res = { on() {}, writableFinished: true, statusCode: 200, req: {} };
  // Only the second instance's requests are exported now.
  second.track({ method: 'GET' } as never, res as never);
  first.track({ method: 'POST' } as never, res as never);
  const samples = parseExposition(await second.scrape());
  assert.equal(value(samples, 'http_requests_in_flight', { method: 'GET' }), 1);
  assert.equal(find(samples, 'http_requests_in_flight', { method: 'POST' }).length, 0);
});

test('a name taken by a metric readykit did not create is refused with RK_ERR_DUPLICATE_NAME', () => {
  const registry = new Registry();
  new Counter({ name: 'http_requests_total', help: 'mine', registers: [registry] });
  assert.throws(() => createMetrics({ registry, runtime: false }), {
    code: ErrorCodes.DUPLICATE_NAME,
    message: /http_requests_total/,
  });

  const other = new Registry();
  new Counter({ name: 'readykit_metrics_series_dropped_total', help: 'mine too', registers: [other] });
  assert.throws(() => createMetrics({ registry: other, runtime: false }), {
    code: ErrorCodes.DUPLICATE_NAME,
    message: /readykit_metrics_series_dropped_total/,
  });
  assert.equal(other.getSingleMetric('http_requests_total'), undefined, 'all or nothing');
});

test("the application's own default metrics are kept; readykit adds only what is missing", async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const theirs = registry.getSingleMetric('process_cpu_seconds_total');
  const m = metrics({ registry });
  assert.equal(registry.getSingleMetric('process_cpu_seconds_total'), theirs);
  assert.ok(registry.getSingleMetric('nodejs_eventloop_utilization'));
  assert.equal(find(parseExposition(await m.scrape()), 'nodejs_eventloop_utilization').length, 1);
});

test('the global registry when passed explicitly', async (t) => {
  const m = metrics({ registry: globalRegistry, runtime: false });
  t.after(() => {
    for (const name of ['http_requests_total', 'http_request_duration_seconds', 'http_requests_in_flight'])
      globalRegistry.removeSingleMetric(name);
    globalRegistry.removeSingleMetric('readykit_metrics_series_dropped_total');
  });
  assert.equal(m.registry, globalRegistry);
  assert.match(await globalRegistry.metrics(), /http_requests_in_flight\{method="GET"\} 0/);
});

test('runtime metrics: prom-client defaults, prefixable, without gauges named _total', async () => {
  const plain = parseExposition(await metrics().scrape());
  assert.equal(find(plain, 'process_cpu_seconds_total').length, 1);
  assert.equal(find(plain, 'nodejs_heap_size_used_bytes').length, 1);
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    assert.equal(find(plain, name).length, 0, name);

  const prefixed = parseExposition(await metrics({ runtime: { prefix: 'app_' } }).scrape());
  assert.equal(find(prefixed, 'app_process_cpu_seconds_total').length, 1);
  assert.equal(find(prefixed, 'app_nodejs_eventloop_utilization').length, 1);
  assert.equal(find(prefixed, 'process_cpu_seconds_total').length, 0);

  const off = parseExposition(await metrics({ runtime: { defaultMetrics: false } }).scrape());
  assert.equal(find(off, 'process_cpu_seconds_total').length, 0);
  assert.equal(find(off, 'nodejs_eventloop_utilization').length, 1);

  const none = parseExposition(await metrics({ runtime: false }).scrape());
  assert.equal(find(none, 'nodejs_eventloop_utilization').length, 0);
  assert.ok(none.every((s) => s.name.startsWith('http_') || s.name.startsWith('readykit_')));
});

test("a registry's default labels appear on every series", async () => {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'checkout' });
  const m = metrics({ registry, runtime: false });
  const samples = parseExposition(await m.scrape());
  assert.ok(samples.length > 0);
  assert.ok(samples.every((s) => s.labels.service === 'checkout'));
});

test("prom-client's own serializer reads the HTTP collectors too", async () => {
  const m = metrics({ runtime: false, route: () => '/r' });
  let onClose: (() => void) | undefined;
  const res = {
    on(_event: string, listener: () => void) {
      onClose = listener.bind(res);
    },
    writableFinished: true,
    statusCode: 201,
    req: {},
  };
  m.track({ method: 'GET' } as never, res as never);
  onClose!();
  const text = await m.registry.metrics();
  assert.match(text, /^http_requests_total\{method="GET",route="\/r",status_code="201"\} 1$/m);
  assert.match(
    text,
    /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/r",status_code="201"\} 1$/m,
  );
  const json = await m.registry.getMetricsAsJSON();
  const histogram = json.find((x) => x.name === 'http_request_duration_seconds')!;
  assert.deepEqual(histogram.values.at(-1), {
    value: 1,
    labels: { method: 'GET', route: '/r', status_code: '201' },
    metricName: 'http_request_duration_seconds_count',
  });
  m.registry.resetMetrics();
  assert.match(
    await m.registry.metrics(),
    /^http_requests_total\{method="GET",route="\/r",status_code="201"\} 0$/m,
  );
});
