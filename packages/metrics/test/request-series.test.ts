import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketIndex, RequestSeries } from '../src/request-series.ts';

test('bucketIndex: upper bounds are inclusive, past the last is +Inf', () => {
  const bounds = [0.1, 0.5, 1];
  const cases: Array<[number, number]> = [
    [0, 0],
    [0.1, 0],
    [0.10001, 1],
    [0.5, 1],
    [1, 2],
    [1.5, 3],
    [Number.POSITIVE_INFINITY, 3],
  ];
  for (const [value, expected] of cases) assert.equal(bucketIndex(bounds, value), expected, `${value}`);
});

test('a series accumulates count, sum and per-bucket counts, and resets', () => {
  const s = new RequestSeries(Object.freeze({ route: '/' }), 2);
  s.observe(0.05, 0);
  s.observe(0.2, 1);
  s.observe(5, 2);
  assert.equal(s.count, 3);
  assert.ok(Math.abs(s.sum - 5.25) < 1e-9);
  assert.deepEqual([...s.buckets], [1, 1]);
  s.setExemplar(2, 'abc', 5);
  s.setExemplar(2, 'def', 6);
  const slot = s.exemplars?.[2];
  assert.deepEqual(slot?.labelSet, { trace_id: 'def' });
  assert.equal(slot?.value, 6);
  assert.ok(Math.abs(slot.timestamp - Date.now() / 1000) < 5, 'Unix seconds');
  s.reset();
  assert.equal(s.count, 0);
  assert.equal(s.sum, 0);
  assert.deepEqual([...s.buckets], [0, 0]);
  assert.equal(s.exemplars, undefined);
});
