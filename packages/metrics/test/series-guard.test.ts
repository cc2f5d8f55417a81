import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASSIC_NAMES } from '../src/index.ts';
import { SeriesGuard } from '../src/series-guard.ts';
import { find, scrapeSamples, send, serveMetrics, value } from './support.ts';

const GET = 0;
const POST = 2;

function guard(max: number): SeriesGuard<Readonly<Record<string, string>>> {
  return new SeriesGuard(CLASSIC_NAMES, max, (labels) => labels);
}

test('hands out one frozen label set per route, method and status', () => {
  const g = guard(10);
  const a = g.series('/a', GET, 200);
  assert.equal(g.series('/a', GET, 200), a, 'the same object every time');
  assert.deepEqual(a, { method: 'GET', route: '/a', status_code: '200' });
  assert.ok(Object.isFrozen(a));
  assert.notEqual(g.series('/a', POST, 200), a);
  assert.notEqual(g.series('/a', GET, 404), a);
  assert.equal(g.size, 3);
  assert.equal(g.all.length, 3);
});

test('past maxSeries, new label sets go to route="overflow" keeping method and status', () => {
  const g = guard(2);
  g.series('/a', GET, 200);
  g.series('/b', GET, 200);
  const over = g.series('/c', GET, 200);
  assert.deepEqual(over, { method: 'GET', route: 'overflow', status_code: '200' });
  assert.equal(g.series('/d', GET, 200), over);
  assert.deepEqual(g.series('/a', GET, 500), { method: 'GET', route: 'overflow', status_code: '500' });
  assert.deepEqual(g.series('/e', POST, 200), { method: 'POST', route: 'overflow', status_code: '200' });
  assert.equal(g.size, 2, 'the cap counts real routes only');
  assert.equal(g.dropped, 4);
  // Label sets that existed before the cap keep being used.
  assert.deepEqual(g.series('/a', GET, 200), { method: 'GET', route: '/a', status_code: '200' });
  assert.equal(g.dropped, 4);
});

test('cardinality guard over real requests: overflow series and the dropped counter', async (t) => {
  const s = await serveMetrics({ maxSeries: 3, route: (req) => req.url });
  t.after(() => s.close());
  for (let i = 0; i < 10; i++) await send(`${s.url}/items/${i}`);
  await send(`${s.url}/items/0`);
  const samples = await scrapeSamples(s.metrics);
  const series = find(samples, 'http_requests_total');
  assert.deepEqual(series.map((x) => x.labels.route).sort(), [
    '/items/0',
    '/items/1',
    '/items/2',
    'overflow',
  ]);
  assert.equal(value(samples, 'http_requests_total', { route: 'overflow' }), 7);
  assert.equal(value(samples, 'http_requests_total', { route: '/items/0' }), 2);
  assert.equal(value(samples, 'http_request_duration_seconds_count', { route: 'overflow' }), 7);
  assert.equal(value(samples, 'readykit_metrics_series_dropped_total'), 7);
  assert.equal(s.metrics.series, 3);

  await send(`${s.url}/items/99`);
  const again = await scrapeSamples(s.metrics);
  assert.equal(value(again, 'readykit_metrics_series_dropped_total'), 8, 'the counter only grows');
});

test('the dropped counter is 0 while under the cap', async (t) => {
  const s = await serveMetrics();
  t.after(() => s.close());
  await send(s.url);
  assert.equal(value(await scrapeSamples(s.metrics), 'readykit_metrics_series_dropped_total'), 0);
});
