import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckResult } from '../src/check-result.ts';
import { type CheckFunction, HealthCheck, type HealthCheckSettings } from '../src/health-check.ts';
import { deferred } from './support.ts';

function make(check: CheckFunction, extra: Partial<HealthCheckSettings> = {}) {
  const results: CheckResult[] = [];
  const hc = new HealthCheck(
    { name: 'dep', kind: 'readiness', check, timeout: 200, interval: 0, critical: true, ...extra },
    (_n, _k, r) => results.push(r),
  );
  return { hc, results };
}

test('resolving passes; throwing, rejecting or returning false fails with a reason', async () => {
  assert.equal((await make(() => undefined).hc.run()).status, 'pass');
  assert.equal((await make(async () => 'anything').hc.run()).status, 'pass');
  assert.deepEqual(
    { ...(await make(() => false).hc.run()), durationMs: 0, at: 0 },
    { status: 'fail', reason: 'returned false', durationMs: 0, at: 0 },
  );
  const thrown = await make(() => {
    throw new Error('sync boom\nstack line');
  }).hc.run();
  assert.equal(thrown.reason, 'sync boom');
  assert.equal(
    (await make(async () => Promise.reject(new Error('async boom'))).hc.run()).reason,
    'async boom',
  );
});

test('a check past its timeout fails at the timeout and sees its signal abort', async () => {
  let aborted: unknown;
  const { hc } = make(
    (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
          reject(signal.reason);
        }),
      ),
    { timeout: 50 },
  );
  const started = performance.now();
  const result = await hc.run();
  const took = performance.now() - started;
  assert.equal(result.status, 'fail');
  assert.equal(result.reason, 'timed out after 50 ms');
  assert.ok(took >= 45 && took < 500, `took ${took} ms`);
  assert.match(String(aborted), /timed out after 50 ms/);
});

test('single flight: 100 concurrent callers share one run', async () => {
  let calls = 0;
  const gate = deferred();
  const { hc } = make(async () => {
    calls++;
    await gate.promise;
  });
  const runs = Array.from({ length: 100 }, () => hc.run());
  gate.resolve();
  const results = await Promise.all(runs);
  assert.equal(calls, 1);
  assert.ok(results.every((r) => r === results[0] && r.status === 'pass'));
  await hc.run();
  assert.equal(calls, 2, 'a later call starts a new run');
});

test('a hung check is not called again until it settles', async () => {
  let calls = 0;
  const hang = deferred();
  const { hc } = make(
    async () => {
      calls++;
      await hang.promise;
    },
    { timeout: 30 },
  );
  assert.equal((await hc.run()).reason, 'timed out after 30 ms');
  const second = await hc.run();
  assert.equal(second.status, 'fail');
  assert.match(second.reason ?? '', /^previous run still pending after \d+ ms$/);
  assert.equal(calls, 1);
  hang.resolve();
  await sleep(1);
  assert.equal((await hc.run()).status, 'pass');
  assert.equal(calls, 2);
});

test('non-critical failures report warn', async () => {
  const { hc } = make(() => false, { critical: false });
  assert.equal((await hc.run()).status, 'warn');
});

test('background mode answers from the last result without waiting', async () => {
  let calls = 0;
  const { hc, results } = make(
    async () => {
      calls++;
      await sleep(40);
    },
    { interval: 20, timeout: 1000 },
  );
  const before = hc.current();
  assert.ok(!(before instanceof Promise));
  assert.deepEqual([before.status, before.reason], ['fail', 'not checked yet']);
  hc.start();
  await sleep(150);
  const t = performance.now();
  const answer = hc.current();
  assert.ok(!(answer instanceof Promise), 'answered synchronously');
  assert.ok(performance.now() - t < 5);
  assert.equal(answer.status, 'pass');
  hc.stop();
  const settledCalls = calls;
  await sleep(100);
  assert.ok(settledCalls >= 2 && settledCalls <= 4, `calls: ${settledCalls}`);
  assert.ok(calls <= settledCalls + 1, 'stop() ends the loop');
  assert.ok(results.length >= 2);
});

test('a liveness check with no result yet passes (never restart a pod on no evidence)', () => {
  const { hc } = make(() => undefined, { kind: 'liveness', interval: 1000 });
  const r = hc.current();
  assert.ok(!(r instanceof Promise));
  assert.equal(r.status, 'pass');
});
