import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BalancerErrorCodes } from '../../src/errors.ts';
import { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetOptions } from '../../src/proxy/retry-budget.ts';

/** How many of `attempts` retries at `now` the budget grants. */
function grant(budget: RetryBudget, now: number, attempts: number): number {
  let granted = 0;
  for (let i = 0; i < attempts; i++) if (budget.tryRetry(now)) granted++;
  return granted;
}

function requests(budget: RetryBudget, now: number, count: number): void {
  for (let i = 0; i < count; i++) budget.recordRequest(now);
}

test('defaults are Linkerd and Finagle: ratio 0.2, 10 per second, 10 s', () => {
  const budget = new RetryBudget();
  assert.deepEqual([budget.ratio, budget.minPerSecond, budget.ttlMs], [0.2, 10, 10_000]);
  assert.deepEqual(DEFAULT_RETRY_BUDGET, { ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 });
});

test('grants ratio x requests in the window plus the reserve, then refuses and counts', () => {
  const cases: Array<[options: RetryBudgetOptions, requests: number, granted: number]> = [
    [{}, 0, 100], // quiet: the reserve, 10/s over 10 s
    [{}, 1000, 300], // 20 % of 1000, plus the reserve
    [{ minPerSecond: 0 }, 10_000, 2000], // busy: 20 %
    [{ minPerSecond: 0 }, 4, 0], // 0.8 of a retry is not one
    [{ minPerSecond: 0 }, 5, 1],
    [{ ratio: 0, minPerSecond: 1, ttlMs: 1000 }, 1000, 1],
    [{ ratio: 1, minPerSecond: 0, ttlMs: 1000 }, 7, 7],
  ];
  for (const [options, count, granted] of cases) {
    const budget = new RetryBudget(options);
    requests(budget, 0, count);
    assert.equal(budget.available(0), granted, `${JSON.stringify(options)} ${count}: available`);
    assert.equal(grant(budget, 0, granted + 5), granted, `${JSON.stringify(options)} ${count}`);
    assert.equal(budget.exhausted, 5);
    assert.equal(budget.available(0), 0);
  }
});

test('retries and requests leave the window after ttlMs, in tenths of it', () => {
  const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, ttlMs: 1000 }); // reserve 1
  assert.equal(budget.tryRetry(0), true);
  assert.equal(budget.tryRetry(50), false);
  assert.equal(budget.tryRetry(950), false, 'still inside the window');
  assert.equal(budget.tryRetry(1000), true, 'the first one left at 1000 ms');

  requests(budget, 1500, 4); // 2 more retries earned
  assert.equal(grant(budget, 1500, 5), 2, 'the retry at 1000 still counts against the reserve');
  assert.equal(budget.available(1999), 0);
  assert.equal(budget.available(2000), 1, 'the retry of 1000 left');
  // At 2500 the requests and retries of 1500 have left too: only the reserve is left.
  assert.equal(budget.available(2500), 1);
});

test('a long idle gap clears everything; a clock going back counts into the latest step', () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, ttlMs: 1000 });
  requests(budget, 0, 100);
  assert.equal(grant(budget, 0, 30), 20);
  assert.equal(budget.available(1e9), 0, 'the requests left with the retries');
  requests(budget, 1e9, 10);
  assert.equal(
    budget.tryRetry(1e9 - 5000),
    true,
    'an earlier clock reading still draws on the current window',
  );
  assert.equal(budget.tryRetry(1e9 - 5000), true);
  assert.equal(budget.tryRetry(1e9), false);
});

test('options are validated; messages name the key', () => {
  const cases: Array<[options: Record<string, unknown>, key: string]> = [
    [{ ratio: -0.1 }, 'retryBudget.ratio'],
    [{ ratio: Number.NaN }, 'retryBudget.ratio'],
    [{ ratio: '0.2' }, 'retryBudget.ratio'],
    [{ minPerSecond: -1 }, 'retryBudget.minPerSecond'],
    [{ minPerSecond: Number.POSITIVE_INFINITY }, 'retryBudget.minPerSecond'],
    [{ ttlMs: 999 }, 'retryBudget.ttlMs'],
    [{ ttlMs: 60_001 }, 'retryBudget.ttlMs'],
  ];
  for (const [options, key] of cases) {
    assert.throws(
      () => new RetryBudget(options as RetryBudgetOptions),
      (error: Error & { code?: string }) =>
        error.code === BalancerErrorCodes.INVALID_CONFIG && error.message.startsWith(`${key} must be`),
      JSON.stringify(options),
    );
  }
});

/**
 * The same rule over a list of every event: the window holds what happened in the current
 * tenth of ttl and the nine before it.
 */
class ReferenceBudget {
  readonly events: Array<{ slot: number; retry: boolean }> = [];
  readonly #step: number;
  readonly #ratio: number;
  readonly #reserve: number;

  constructor(ratio: number, minPerSecond: number, ttlMs: number) {
    this.#step = ttlMs / 10;
    this.#ratio = ratio;
    this.#reserve = (minPerSecond * ttlMs) / 1000;
  }

  recordRequest(now: number): void {
    this.events.push({ slot: Math.floor(now / this.#step), retry: false });
  }

  tryRetry(now: number): boolean {
    const slot = Math.floor(now / this.#step);
    const inWindow = this.events.filter((e) => e.slot > slot - 10);
    const retries = inWindow.filter((e) => e.retry).length;
    const requests = inWindow.length - retries;
    if (retries + 1 > this.#ratio * requests + this.#reserve) return false;
    this.events.push({ slot, retry: true });
    return true;
  }
}

test('property: decides exactly as the O(n) reference, on random traffic', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 0.1, 0.2, 0.5),
      fc.constantFrom(0, 1, 10),
      fc.constantFrom(1000, 10_000),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.boolean()), { maxLength: 400 }),
      (ratio, minPerSecond, ttlMs, events) => {
        const budget = new RetryBudget({ ratio, minPerSecond, ttlMs });
        const reference = new ReferenceBudget(ratio, minPerSecond, ttlMs);
        let now = 0;
        let refused = 0;
        for (const [dt, retry] of events) {
          now += dt;
          if (!retry) {
            budget.recordRequest(now);
            reference.recordRequest(now);
            continue;
          }
          const expected = reference.tryRetry(now);
          assert.equal(budget.tryRetry(now), expected, `at ${now}`);
          if (!expected) refused++;
        }
        assert.equal(budget.exhausted, refused);
      },
    ),
    { seed: 11, numRuns: 300 },
  );
});
