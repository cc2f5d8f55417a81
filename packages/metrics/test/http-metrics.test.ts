import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { DEFAULT_BUCKETS } from '../src/index.ts';
import { deferred, find, scrapeSamples, send, serveMetrics, until, value } from './support.ts';

const routeOfUrl = (req: { url?: string | undefined }) => {
  const path = (req.url ?? '/').split('?')[0]!;
  return path === '/users/42' ? '/users/:id' : path === '/' ? '/' : undefined;
};

test('counts requests and records their durations per method, route and status', async (t) => {
  const s = await serveMetrics({ route: routeOfUrl }, (req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 30);
    else res.end('ok');
  });
  t.after(() => s.close());
  for (let i = 0; i < 3; i++) await send(`${s.url}/users/42?x=${i}`);
  await send(`${s.url}/`, { method: 'POST' });
  await send(`${s.url}/slow`);
  const samples = await scrapeSamples(s.metrics);

  const users = { method: 'GET', route: '/users/:id', status_code: '200' };
  assert.equal(value(samples, 'http_requests_total', users), 3);
  assert.equal(value(samples, 'http_requests_total', { method: 'POST', route: '/', status_code: '200' }), 1);
  assert.equal(value(samples, 'http_request_duration_seconds_count', users), 3);
  assert.ok(value(samples, 'http_request_duration_seconds_sum', users) > 0);

  const buckets = find(samples, 'http_request_duration_seconds_bucket', users);
  assert.deepEqual(
    buckets.map((b) => b.labels.le),
    [...DEFAULT_BUCKETS.map(String), '+Inf'],
  );
  const counts = buckets.map((b) => b.value);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => a - b),
    'buckets are cumulative',
  );
  assert.equal(counts.at(-1), 3);

  // 30 ms: above the 0.025 s bucket, inside 0.05 s (with room for a slow machine).
  const slow = { method: 'GET', route: 'unmatched', status_code: '200' };
  assert.equal(value(samples, 'http_request_duration_seconds_bucket', { ...slow, le: '0.025' }), 0);
  assert.equal(value(samples, 'http_request_duration_seconds_bucket', { ...slow, le: '+Inf' }), 1);
  assert.ok(value(samples, 'http_request_duration_seconds_sum', slow) >= 0.029);
});

test('records status 500 when the handler answers 500', async (t) => {
  const s = await serveMetrics({}, (_req, res) => {
    res.statusCode = 500;
    res.end('internal error');
  });
  t.after(() => s.close());
  assert.equal((await send(`${s.url}/boom`)).status, 500);
  const samples = await scrapeSamples(s.metrics);
  assert.equal(value(samples, 'http_requests_total', { route: 'unmatched', status_code: '500' }), 1);
});

test('a request with no matched route is route="unmatched", also when the resolver returns "" or throws', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const s = await serveMetrics({
    route: (req) => {
      if (req.url === '/throws') throw new Error('resolver bug');
      return req.url === '/empty' ? '' : undefined;
    },
  });
  t.after(() => s.close());
  for (const path of ['/nothing', '/empty', '/throws', '/throws']) await send(`${s.url}${path}`);
  const samples = await scrapeSamples(s.metrics);
  assert.equal(value(samples, 'http_requests_total', { route: 'unmatched' }), 4);
  await until(() => warnings.length > 0);
  assert.equal(warnings.filter((w) => w.includes('options.route threw')).length, 1, 'warned once');
});

test('methods outside the standard set are recorded as _OTHER', async (t) => {
  const s = await serveMetrics();
  t.after(() => s.close());
  await send(`${s.url}/dav`, { method: 'PROPFIND' });
  await send(`${s.url}/dav`, { method: 'MKCOL' });
  await send(`${s.url}/x`, { method: 'PATCH' });
  const samples = await scrapeSamples(s.metrics);
  assert.equal(value(samples, 'http_requests_total', { method: '_OTHER' }), 2);
  assert.equal(value(samples, 'http_requests_total', { method: 'PATCH' }), 1);
  assert.equal(find(samples, 'http_requests_total', { method: 'PROPFIND' }).length, 0);
  assert.equal(value(samples, 'http_requests_in_flight', { method: '_OTHER' }), 0);
});

test('an aborted request is counted with status 499 and in-flight returns to 0', async (t) => {
  const started = deferred();
  const closed = deferred();
  const s = await serveMetrics({}, (req, res) => {
    if (req.url !== '/stream') return void res.end('ok');
    res.on('close', () => closed.resolve());
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk\n'); // and never end: the client hangs up mid-response
    started.resolve();
  });
  t.after(() => s.close());

  const client = request(`${s.url}/stream`, { agent: false });
  client.on('error', () => {});
  client.on('response', (res) => res.once('data', () => client.destroy()));
  client.end();
  await started.promise;
  const during = await scrapeSamples(s.metrics);
  assert.equal(value(during, 'http_requests_in_flight', { method: 'GET' }), 1);

  await closed.promise;
  const after = await scrapeSamples(s.metrics);
  assert.equal(value(after, 'http_requests_in_flight', { method: 'GET' }), 0);
  assert.equal(value(after, 'http_requests_total', { status_code: '499' }), 1);
  assert.equal(find(after, 'http_requests_total', { status_code: '200' }).length, 0);
  assert.equal(value(after, 'http_request_duration_seconds_count', { status_code: '499' }), 1);
});

test('in-flight counts concurrent requests per method and never goes negative', async (t) => {
  const release = deferred();
  let arrived = 0;
  const s = await serveMetrics({}, (_req, res) => {
    arrived++;
    void release.promise.then(() => res.end('ok'));
  });
  t.after(() => s.close());
  const pending = [send(s.url), send(s.url), send(s.url, { method: 'DELETE' })];
  await until(() => arrived === 3);
  const during = await scrapeSamples(s.metrics);
  assert.equal(value(during, 'http_requests_in_flight', { method: 'GET' }), 2);
  assert.equal(value(during, 'http_requests_in_flight', { method: 'DELETE' }), 1);
  release.resolve();
  await Promise.all(pending);
  const after = await scrapeSamples(s.metrics);
  assert.equal(value(after, 'http_requests_in_flight', { method: 'GET' }), 0);
  assert.equal(value(after, 'http_requests_in_flight', { method: 'DELETE' }), 0);
});

test('the in-flight gauge has a GET series before any traffic', async () => {
  const s = await serveMetrics();
  try {
    const samples = await scrapeSamples(s.metrics);
    assert.equal(value(samples, 'http_requests_in_flight', { method: 'GET' }), 0);
    assert.equal(find(samples, 'http_requests_total').length, 0);
  } finally {
    await s.close();
  }
});

test('tracking the same response twice counts it once; scrapes are not tracked', async (t) => {
  const s = await serveMetrics({}, (req, res) => {
    s.metrics.track(req, res);
    res.end('ok');
  });
  t.after(() => s.close());
  await send(s.url);
  await send(`${s.url}/metrics`);
  const samples = await scrapeSamples(s.metrics);
  assert.equal(value(samples, 'http_requests_total'), 1);
});

test("'close' emitted again by hand records nothing more", async (t) => {
  const s = await serveMetrics({}, (_req, res) => {
    res.end('ok', () => setImmediate(() => res.emit('close')));
  });
  t.after(() => s.close());
  await send(s.url);
  await until(async () => value(await scrapeSamples(s.metrics), 'http_requests_total') === 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const samples = await scrapeSamples(s.metrics);
  assert.equal(value(samples, 'http_requests_total'), 1);
  assert.equal(value(samples, 'http_requests_in_flight', { method: 'GET' }), 0);
});

test('a long request keeps its own duration while many short ones start and end around it', async (t) => {
  const s = await serveMetrics({ route: (req) => req.url }, (req, res) => {
    if (req.url === '/long') setTimeout(() => res.end('long'), 80);
    else res.end('short');
  });
  t.after(() => s.close());
  const long = send(`${s.url}/long`);
  // Short requests start and end one after another while /long is still in flight.
  for (let i = 0; i < 100; i++) await send(`${s.url}/short`);
  await long;
  const samples = await scrapeSamples(s.metrics);
  const longLabels = { route: '/long', status_code: '200' };
  assert.equal(value(samples, 'http_request_duration_seconds_count', longLabels), 1);
  assert.ok(value(samples, 'http_request_duration_seconds_sum', longLabels) >= 0.079);
  const shortLabels = { route: '/short', status_code: '200' };
  assert.equal(value(samples, 'http_request_duration_seconds_count', shortLabels), 100);
  assert.ok(
    value(samples, 'http_request_duration_seconds_sum', shortLabels) < 100 * 0.079,
    'no short request took the start time of the long one',
  );
});

test('semconv: OpenTelemetry names and labels', async (t) => {
  const s = await serveMetrics({ semconv: true, route: () => '/items/:id' });
  t.after(() => s.close());
  await send(`${s.url}/items/7`);
  const samples = await scrapeSamples(s.metrics);
  const labels = { http_request_method: 'GET', http_route: '/items/:id', http_response_status_code: '200' };
  assert.equal(value(samples, 'http_server_requests_total', labels), 1);
  assert.equal(value(samples, 'http_server_request_duration_seconds_count', labels), 1);
  assert.equal(value(samples, 'http_server_active_requests', { http_request_method: 'GET' }), 0);
  for (const classic of [
    'http_requests_total',
    'http_request_duration_seconds_count',
    'http_requests_in_flight',
  ])
    assert.equal(find(samples, classic).length, 0, classic);
  assert.deepEqual(s.metrics.names, {
    requests: 'http_server_requests_total',
    duration: 'http_server_request_duration_seconds',
    inFlight: 'http_server_active_requests',
    method: 'http_request_method',
    route: 'http_route',
    status: 'http_response_status_code',
  });
});

test('custom buckets are used as given', async (t) => {
  const s = await serveMetrics({ buckets: [0.1, 1] });
  t.after(() => s.close());
  await send(s.url);
  const samples = await scrapeSamples(s.metrics);
  assert.deepEqual(
    find(samples, 'http_request_duration_seconds_bucket').map((b) => b.labels.le),
    ['0.1', '1', '+Inf'],
  );
});
