import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { CONTENT_TYPES, createMetrics } from '../src/index.ts';
import { matchesPath } from '../src/metrics-http.ts';
import { find, parseExposition, scrapeText, send, serve, serveMetrics, value } from './support.ts';

test('matchesPath: exact path, any query, one trailing slash', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/metrics', '/metrics', true],
    ['/metrics?name[]=http_requests_total', '/metrics', true],
    ['/metrics/', '/metrics', true],
    ['/metrics/?x', '/metrics', true],
    ['/metricsx', '/metrics', false],
    ['/metrics/x', '/metrics', false],
    ['/metric', '/metrics', false],
    ['/', '/metrics', false],
    ['/internal/metrics?x=1', '/internal/metrics', true],
    ['/', '/', true],
    ['/?a', '/', true],
    ['/a', '/', false],
  ];
  for (const [url, path, expected] of cases)
    assert.equal(matchesPath(url, path), expected, `${url} vs ${path}`);
});

test('GET /metrics answers Prometheus text 0.0.4 by default, never cached', async (t) => {
  const s = await serveMetrics();
  t.after(() => s.close());
  await send(`${s.url}/hello`);
  const res = await scrapeText(s.url);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers.vary, 'Accept');
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  assert.doesNotMatch(res.body, /# EOF/);
  assert.doesNotMatch(res.body, / # \{/, 'no exemplars in text 0.0.4');
  assert.equal(value(parseExposition(res.body), 'http_requests_total', { route: 'unmatched' }), 1);
});

test('query strings and a trailing slash still match; HEAD gets headers only', async (t) => {
  const s = await serveMetrics();
  t.after(() => s.close());
  for (const path of ['/metrics?format=x', '/metrics/', '/metrics/?a=1']) {
    const res = await send(`${s.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.body, /http_requests_in_flight/);
  }
  const head = await send(`${s.url}/metrics`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.ok(Number(head.headers['content-length']) > 0);
});

test('other methods on the metrics path get 405 with Allow; other paths are not touched', async (t) => {
  const s = await serveMetrics();
  t.after(() => s.close());
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await send(`${s.url}/metrics`, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal(res.body, 'method not allowed\n');
  }
  const other = await send(`${s.url}/metricsz`);
  assert.equal(other.body, 'ok');
});

test('a custom path', async (t) => {
  const s = await serveMetrics({ path: '/internal/prom/' });
  t.after(() => s.close());
  assert.equal((await send(`${s.url}/metrics`)).body, 'ok');
  const res = await send(`${s.url}/internal/prom?x`);
  assert.equal(res.headers['content-type'], CONTENT_TYPES.prometheus);
});

test('OpenMetrics 1.0 when Accept asks for it, with trace_id exemplars on the duration buckets', async (t) => {
  const traceIds = new Map([
    ['/traced', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['/long', 'x'.repeat(65)],
  ]);
  const s = await serveMetrics({
    route: (req) => req.url,
    exemplar: (req) => traceIds.get(req.url ?? ''),
  });
  t.after(() => s.close());
  await send(`${s.url}/traced`);
  await send(`${s.url}/untraced`);
  await send(`${s.url}/long`);

  const res = await scrapeText(
    s.url,
    'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  assert.ok(res.body.endsWith('# EOF\n'));
  assert.match(res.body, /^# TYPE http_requests counter$/m, 'counter family named without _total');
  const samples = parseExposition(res.body);
  assert.equal(value(samples, 'http_requests_total', { route: '/traced' }), 1);

  const traced = find(samples, 'http_request_duration_seconds_bucket', { route: '/traced' });
  const withExemplar = traced.filter((b) => b.exemplar !== undefined);
  assert.equal(withExemplar.length, 1, 'one exemplar: in the bucket the request landed in');
  const [bucket] = withExemplar;
  assert.deepEqual(bucket!.exemplar!.labels, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
  assert.ok(bucket!.exemplar!.value <= Number(bucket!.labels.le), 'the exemplar value fits its bucket');
  assert.ok(
    traced.every((b) => b.labels.le === '+Inf' || /\./.test(b.labels.le!)),
    'canonical le values',
  );
  for (const route of ['/untraced', '/long']) {
    const buckets = find(samples, 'http_request_duration_seconds_bucket', { route });
    assert.ok(buckets.length > 0 && buckets.every((b) => b.exemplar === undefined), route);
  }

  const plain = await scrapeText(s.url);
  assert.doesNotMatch(plain.body, /trace_id/, 'the same registry still answers text without exemplars');
  assert.match(plain.body, /^# TYPE http_requests_total counter$/m);
});

test('a collector that throws answers 500 with a short body and no stack', async (t) => {
  const registry = new Registry();
  new Gauge({
    name: 'broken',
    help: 'Throws when collected.',
    registers: [registry],
    collect() {
      throw new Error('secret detail\n    at somewhere (/app/src/file.js:1:1)');
    },
  });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const metrics = createMetrics({ registry, runtime: false });
  const s = await serve((req, res) => {
    if (!metrics.handle(req, res)) res.end('ok');
  });
  t.after(() => s.close());
  const res = await send(`${s.url}/metrics`);
  assert.equal(res.status, 500);
  assert.equal(res.body, 'metrics collection failed\n');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.doesNotMatch(res.body, /at |secret/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(warnings.some((w) => w.includes('secret detail') && !w.includes('file.js')));
});
