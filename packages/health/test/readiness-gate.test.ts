import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadinessGate, type WarmupTask } from '../src/readiness-gate.ts';
import { seededRandom } from './support.ts';

function gate(warmup?: WarmupTask, attemptTimeout = 0) {
  const changes: string[] = [];
  const g = new ReadinessGate(
    {
      name: 'db',
      warmup,
      attemptTimeout,
      retry: { initialDelay: 10, maxDelay: 40 },
      random: seededRandom(7),
    },
    (x) => changes.push(x.isOpen ? 'open' : x.reason),
  );
  return { g, changes };
}

test('open() opens once and wakes waiters', async () => {
  const { g, changes } = gate();
  assert.equal(g.reason, 'waiting for open()');
  const opened = g.opened();
  g.open();
  g.open();
  await opened;
  assert.equal(g.isOpen, true);
  assert.ok(g.openedAt > 0);
  assert.deepEqual(changes, ['open']);
});

test('a warmup task that fails is retried with backoff until it resolves', async () => {
  let attempts = 0;
  const { g, changes } = gate(async () => {
    attempts++;
    if (attempts < 4) throw new Error(`refused ${attempts}`);
  });
  g.start();
  await g.opened();
  assert.equal(attempts, 4);
  assert.equal(g.attempts, 4);
  assert.deepEqual(changes, [
    'warming, attempt 1 failed: refused 1',
    'warming, attempt 2 failed: refused 2',
    'warming, attempt 3 failed: refused 3',
    'open',
  ]);
});

test('an attempt past its timeout is aborted and retried', async () => {
  const signals: AbortSignal[] = [];
  const { g } = gate(async (signal) => {
    signals.push(signal);
    if (signals.length === 1) await new Promise(() => {});
  }, 30);
  g.start();
  await g.opened();
  assert.equal(signals.length, 2);
  assert.equal(signals[0]?.aborted, true);
});

test('stop() ends retries', async () => {
  let attempts = 0;
  const { g } = gate(async () => {
    attempts++;
    throw new Error('no');
  });
  g.start();
  await sleep(5);
  g.stop();
  const after = attempts;
  await sleep(100);
  assert.equal(attempts, after);
  assert.equal(g.isOpen, false);
});
