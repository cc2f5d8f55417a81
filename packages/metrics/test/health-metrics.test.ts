import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics, ErrorCodes } from '../src/index.ts';
import { find, scrapeSamples, serve, testHealth, value } from './support.ts';

test('lifecycle metrics follow a Health instance through its lifecycle', async (t) => {
  let dbUp = true;
  const health = testHealth({
    env: {},
    gates: ['cache'],
    readiness: { db: () => dbUp },
    liveness: { disk: { check: () => false, critical: false } },
  });
  const metrics = createMetrics({ runtime: false, health });
  t.after(async () => {
    await metrics.close();
    await health.close();
  });

  let samples = await scrapeSamples(metrics);
  assert.equal(value(samples, 'readykit_ready'), 0);
  assert.equal(value(samples, 'readykit_lifecycle_state', { state: 'starting' }), 1);
  for (const state of ['warming', 'ready', 'draining', 'stopped'])
    assert.equal(value(samples, 'readykit_lifecycle_state', { state }), 0, state);
  assert.equal(value(samples, 'readykit_gate_open', { gate: 'cache' }), 0);

  const served = await serve((req, res) => {
    if (!health.handle(req, res)) res.end('ok');
  });
  t.after(() => served.close());
  health.attach(served.server);
  samples = await scrapeSamples(metrics);
  assert.equal(value(samples, 'readykit_lifecycle_state', { state: 'warming' }), 1);
  assert.equal(value(samples, 'readykit_lifecycle_state', { state: 'starting' }), 0);

  await health.readiness();
  dbUp = false;
  await health.readiness();
  await health.liveness();
  samples = await scrapeSamples(metrics);
  const db = { check: 'db', kind: 'readiness' };
  assert.equal(value(samples, 'readykit_check_duration_seconds_count', db), 2);
  assert.ok(value(samples, 'readykit_check_duration_seconds_sum', db) >= 0);
  assert.equal(value(samples, 'readykit_check_failures_total', db), 1);
  assert.equal(
    value(samples, 'readykit_check_failures_total', { check: 'disk', kind: 'liveness' }),
    1,
    'warn counts',
  );

  dbUp = true;
  health.gate('cache').open();
  await health.whenReady();
  samples = await scrapeSamples(metrics);
  assert.equal(value(samples, 'readykit_ready'), 1);
  assert.equal(value(samples, 'readykit_lifecycle_state', { state: 'ready' }), 1);
  assert.equal(value(samples, 'readykit_gate_open', { gate: 'cache' }), 1);

  await health.shutdown('test');
  samples = await scrapeSamples(metrics);
  assert.equal(value(samples, 'readykit_ready'), 0);
  assert.equal(value(samples, 'readykit_lifecycle_state', { state: 'stopped' }), 1);
  assert.equal(find(samples, 'readykit_lifecycle_state').filter((s) => s.value === 1).length, 1);
});

test('a check that passes creates its failure series at 0', async (t) => {
  const health = testHealth({ readiness: { cache: () => true } });
  const metrics = createMetrics({ runtime: false }).observeHealth(health);
  t.after(async () => {
    await metrics.close();
    await health.close();
  });
  await health.readiness();
  const samples = await scrapeSamples(metrics);
  assert.equal(value(samples, 'readykit_check_failures_total', { check: 'cache' }), 0);
  assert.equal(value(samples, 'readykit_check_duration_seconds_count', { check: 'cache' }), 1);
});

test('no lifecycle metrics without a Health instance', async (t) => {
  const metrics = createMetrics({ runtime: false });
  t.after(() => metrics.close());
  const samples = await scrapeSamples(metrics);
  assert.equal(
    samples.filter((s) => s.name.startsWith('readykit_') && !s.name.includes('series_dropped')).length,
    0,
  );
});

test('observing another Health instance follows it instead; close() stops listening', async (t) => {
  const first = testHealth({ readiness: { a: () => true } });
  const second = testHealth({ readiness: { b: () => true } });
  const metrics = createMetrics({ runtime: false, health: first });
  t.after(async () => {
    await metrics.close();
    await first.close();
    await second.close();
  });
  assert.equal(first.listenerCount('check'), 1);
  metrics.observeHealth(second);
  assert.equal(first.listenerCount('check'), 0);
  assert.equal(second.listenerCount('check'), 1);
  await first.readiness();
  await second.readiness();
  const samples = await scrapeSamples(metrics);
  assert.equal(find(samples, 'readykit_check_duration_seconds_count', { check: 'a' }).length, 0);
  assert.equal(value(samples, 'readykit_check_duration_seconds_count', { check: 'b' }), 1);

  await metrics.close();
  assert.equal(second.listenerCount('check'), 0);
  assert.throws(() => metrics.observeHealth(first), { code: ErrorCodes.LIFECYCLE });
  await metrics.close(); // idempotent
});
