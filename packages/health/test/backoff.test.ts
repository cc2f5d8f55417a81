import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../src/backoff.ts';

test('exponential with equal jitter, capped', () => {
  const policy = { initialDelay: 100, maxDelay: 1000 };
  assert.equal(
    backoffDelay(policy, 1, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(policy, 1, () => 0.999999),
    100,
  );
  assert.equal(
    backoffDelay(policy, 2, () => 0),
    100,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.5),
    300,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(policy, 1000, () => 0.5),
    750,
  );
});
