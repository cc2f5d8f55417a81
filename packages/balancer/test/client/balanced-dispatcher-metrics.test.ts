import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { fetch } from 'undici';
import { metricSample } from '../support/metric-sample.ts';
import { until } from '../support/test-backend.ts';
import { backendOf, ORIGIN, startDispatcher } from './dispatcher-fixture.ts';

const REQUESTS = 'readykit_balancer_requests_total';

/** Lines of the exposition that carry `upstream="<name>"`. */
function seriesOf(exposition: string, upstream: string): string[] {
  return exposition.split('\n').filter((line) => line.includes(`upstream="${upstream}"`));
}

test('two dispatchers on one registry count their calls under their own upstream label', async (t) => {
  const registry = new Registry();
  const inventory = await startDispatcher(t, ['a'], { registry });
  const orders = await startDispatcher(t, ['b', 'c'], {
    origin: 'http://orders.test',
    registry,
    algorithm: 'round-robin',
  });
  for (let i = 0; i < 3; i++) await (await fetch(`${ORIGIN}/x`, { dispatcher: inventory.d })).text();
  for (let i = 0; i < 4; i++) await (await fetch('http://orders.test/y', { dispatcher: orders.d })).text();
  inventory.backends[0]!.handler = (_req, res) => {
    res.statusCode = 404;
    res.end();
  };
  await (await fetch(`${ORIGIN}/missing`, { dispatcher: inventory.d })).text();

  const text = await registry.metrics();
  const [a] = inventory.backends;
  const [b, c] = orders.backends;
  const count = (upstream: string, backend: string, codeClass: string) =>
    metricSample(text, REQUESTS, { upstream, backend, code_class: codeClass });
  assert.equal(count('inventory.test', a!.url, '2xx'), 3);
  assert.equal(count('inventory.test', a!.url, '4xx'), 1);
  assert.equal(count('orders.test', b!.url, '2xx'), 2);
  assert.equal(count('orders.test', c!.url, '2xx'), 2);
  assert.equal(count('inventory.test', b!.url, '2xx'), undefined);
  assert.equal(inventory.d.name, 'inventory.test');
  assert.equal(
    metricSample(text, 'readykit_balancer_backend_state', {
      upstream: 'orders.test',
      backend: b!.url,
      state: 'ready',
    }),
    1,
  );
});

test('a named dispatcher reports under its name', async (t) => {
  const registry = new Registry();
  const { d, backends } = await startDispatcher(t, ['a'], { registry, name: 'inventory-v2' });
  await (await fetch(`${ORIGIN}/x`, { dispatcher: d })).text();
  const text = await registry.metrics();
  assert.equal(
    metricSample(text, REQUESTS, { upstream: 'inventory-v2', backend: backends[0]!.url, code_class: '2xx' }),
    1,
  );
  assert.equal(seriesOf(text, 'inventory.test').length, 0);
});

test('after close() a dispatcher’s request series are gone; the other dispatcher’s stay', async (t) => {
  const registry = new Registry();
  const inventory = await startDispatcher(t, ['a'], { registry });
  const orders = await startDispatcher(t, ['b'], { origin: 'http://orders.test', registry });
  await (await fetch(`${ORIGIN}/x`, { dispatcher: inventory.d })).text();
  await (await fetch('http://orders.test/y', { dispatcher: orders.d })).text();
  const a = inventory.backends[0]!.url;
  const b = orders.backends[0]!.url;
  assert.equal(
    metricSample(await registry.metrics(), REQUESTS, {
      upstream: 'inventory.test',
      backend: a,
      code_class: '2xx',
    }),
    1,
  );

  await inventory.d.close();
  const text = await registry.metrics();
  assert.equal(
    metricSample(text, REQUESTS, { upstream: 'inventory.test', backend: a, code_class: '2xx' }),
    undefined,
  );
  assert.equal(
    metricSample(text, 'readykit_balancer_backend_state', {
      upstream: 'inventory.test',
      backend: a,
      state: 'ready',
    }),
    undefined,
  );
  assert.equal(metricSample(text, REQUESTS, { upstream: 'orders.test', backend: b, code_class: '2xx' }), 1);

  // The same upstream again on the same registry: no "already registered", counting from zero.
  const again = await startDispatcher(t, ['c'], { registry });
  await (await fetch(`${ORIGIN}/x`, { dispatcher: again.d })).text();
  const c = again.backends[0]!.url;
  assert.equal(
    metricSample(await registry.metrics(), REQUESTS, {
      upstream: 'inventory.test',
      backend: c,
      code_class: '2xx',
    }),
    1,
  );

  await orders.d.close();
  assert.equal(
    metricSample(await registry.metrics(), REQUESTS, {
      upstream: 'orders.test',
      backend: b,
      code_class: '2xx',
    }),
    undefined,
  );
});

test('after close() no series of the dispatcher’s upstream is left', async (t) => {
  const registry = new Registry();
  const { d, backends } = await startDispatcher(t, ['a'], { registry });
  await (await fetch(`${ORIGIN}/x`, { dispatcher: d })).text();
  backends[0]!.readyStatus = 503;
  await until(() => backendOf(d, backends[0]!.url).state === 'draining', 2000, 'a draining');
  await assert.rejects(fetch(`${ORIGIN}/x`, { dispatcher: d }));
  const before = await registry.metrics();
  assert.equal(
    metricSample(before, 'readykit_balancer_errors_total', {
      upstream: 'inventory.test',
      code: 'RK_ERR_NO_BACKEND',
    }),
    1,
  );
  await d.close();
  assert.deepEqual(seriesOf(await registry.metrics(), 'inventory.test'), []);
});
