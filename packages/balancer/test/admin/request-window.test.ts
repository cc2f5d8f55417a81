import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bucketOf, HISTORY_SECONDS, RequestWindow, WINDOW_SECONDS } from '../../src/admin/request-window.ts';
import { roundMs, SecondSeries } from '../../src/admin/second-series.ts';

function close(actual: number | null, expected: number, tolerance: number): void {
  assert.ok(actual !== null, `expected about ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

describe('RequestWindow', () => {
  it('counts 5xx and attempts without a response as failures, 4xx as successes', () => {
    const window = new RequestWindow(0);
    for (const status of [200, 204, 404, 499, 500, 503, 0, 302]) window.record(status, 1, 500);
    const summary = window.summary(900);
    assert.equal(summary.requests, 8);
    assert.equal(summary.successRate, 5 / 8);
  });

  it('answers nulls, not zeros or NaN, without requests', () => {
    const summary = new RequestWindow(0).summary(5_000);
    assert.deepEqual(summary, { requests: 0, rps: 0, successRate: null, p50Ms: null, p99Ms: null });
  });

  it('gives requests per second over the last 10 s, the current second counted for its elapsed part', () => {
    const window = new RequestWindow(0);
    for (let second = 15; second < 30; second++) {
      for (let i = 0; i < 10; i++) window.record(200, 2, second * 1000 + i * 100);
    }
    // Seconds 20-29 are in the window, 29 nearly whole: 100 requests over 9.999 s.
    close(window.summary(29_999).rps, 100 / 9.999, 1e-9);
    // Half-way through second 30: seconds 21-29 (90 requests) over 9.5 s.
    const later = window.summary(30_500);
    assert.equal(later.requests, 90);
    close(later.rps, 90 / 9.5, 1e-9);
  });

  it('divides by its age while younger than the window, and never by less than a second', () => {
    const young = new RequestWindow(60_000);
    for (let i = 0; i < 30; i++) young.record(200, 1, 61_000 + i);
    close(young.summary(63_000).rps, 10, 1e-9);
    const newborn = new RequestWindow(60_000);
    newborn.record(200, 1, 60_010);
    close(newborn.summary(60_020).rps, 1, 1e-9);
  });

  it('forgets seconds once they leave the window', () => {
    const window = new RequestWindow(0);
    window.record(500, 5, 1_200);
    assert.equal(window.summary(10_900).requests, 1);
    assert.equal(window.summary(11_000).requests, 0);
    // A slot reused for a later second starts from zero.
    window.record(200, 5, 11_300);
    const summary = window.summary(11_400);
    assert.deepEqual([summary.requests, summary.successRate], [1, 1]);
  });

  it('gives the exact latency for one request, or many equal ones', () => {
    const window = new RequestWindow(0);
    window.record(200, 7.3, 100);
    assert.deepEqual([window.summary(200).p50Ms, window.summary(200).p99Ms], [7.3, 7.3]);
    for (let i = 0; i < 50; i++) window.record(200, 7.3, 300);
    assert.equal(window.summary(400).p99Ms, 7.3);
  });

  it('estimates p50 and p99 within 10 % of the exact order statistics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.06, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (durations) => {
          const window = new RequestWindow(0);
          for (const [i, ms] of durations.entries()) window.record(200, ms, 1_000 + (i % 900));
          const sorted = [...durations].sort((a, b) => a - b);
          const summary = window.summary(1_999);
          for (const [q, estimate] of [
            [0.5, summary.p50Ms],
            [0.99, summary.p99Ms],
          ] as const) {
            const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
            assert.ok(
              estimate !== null && Math.abs(estimate - exact) <= exact * 0.1,
              `${q}: ${estimate} vs ${exact}`,
            );
          }
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('drops a sample older than what its slot holds (a clock read out of order)', () => {
    const window = new RequestWindow(0);
    window.record(200, 1, 14_500);
    window.record(500, 1, 4_500); // same slot, ten seconds earlier
    assert.deepEqual([window.summary(14_600).requests, window.summary(14_600).successRate], [1, 1]);
  });

  it('folds every second that ended into the history, empty seconds as [0, null]', () => {
    const window = new RequestWindow(0);
    window.record(200, 4, 100);
    window.record(200, 8, 200);
    // Nothing folded for the second still running.
    assert.deepEqual(window.historyAt(900).points(), []);
    window.record(200, 2, 1_500);
    window.record(200, 3, 3_100);
    const history = window.historyAt(5_000);
    assert.equal(history.end, 4);
    assert.deepEqual(history.points(), [
      [2, 8],
      [1, 2],
      [0, null],
      [1, 3],
      [0, null],
    ]);
  });

  it('folds on the hot path too, so seconds are not lost when nobody reads for longer than the window', () => {
    const window = new RequestWindow(0);
    for (let second = 0; second < 3 * WINDOW_SECONDS; second++) window.record(200, 1, second * 1000 + 10);
    const points = window.historyAt(3 * WINDOW_SECONDS * 1000).points();
    assert.equal(points.length, 3 * WINDOW_SECONDS);
    assert.ok(points.every(([rps, p99]) => rps === 1 && p99 === 1));
  });

  it('keeps five minutes of history and skips what a long silence would overwrite anyway', () => {
    const window = new RequestWindow(0);
    window.record(200, 1, 5_500);
    window.record(200, 1, 1_000_500);
    const history = window.historyAt(1_001_000);
    assert.equal(history.length, HISTORY_SECONDS);
    assert.equal(history.end, 1_000);
    const points = history.points();
    assert.deepEqual(points.at(-1), [1, 1]);
    assert.equal(points.slice(0, -1).filter(([rps]) => rps !== 0).length, 0);
  });
});

describe('bucketOf', () => {
  it('never decreases as latency grows, and stays within the histogram', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        (a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          assert.ok(bucketOf(low) <= bucketOf(high));
          assert.ok(bucketOf(high) >= 0 && bucketOf(high) < 96);
        },
      ),
      { seed: 7, numRuns: 1000 },
    );
    assert.equal(bucketOf(-1), 0);
    assert.equal(bucketOf(Number.NaN), 0);
  });
});

describe('SecondSeries', () => {
  it('keeps the newest points, oldest first, once it wraps', () => {
    const series = new SecondSeries(3);
    for (let second = 10; second < 15; second++)
      series.push(second, second, second === 13 ? Number.NaN : second / 2);
    assert.equal(series.end, 14);
    assert.deepEqual(series.points(), [
      [12, 6],
      [13, null],
      [14, 7],
    ]);
    assert.deepEqual(series.points(1), [[14, 7]]);
    assert.deepEqual(series.points(10), series.points());
  });

  it('rounds latencies to three significant digits for the wire', () => {
    assert.deepEqual([1.23456, 12.3456, 123.456, 0.01234].map(roundMs), [1.235, 12.3, 123, 0.012]);
  });
});
