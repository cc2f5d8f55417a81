import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_DECAY_MS,
  DEFAULT_FAILURE_PENALTY_MS,
  DEFAULT_PRIOR_MS,
  decayEstimate,
  MIN_RESPONSE_WEIGHT,
  PeakEwma,
  updateEstimate,
} from '../../src/load/peak-ewma.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

describe('decayEstimate', () => {
  const cases: Array<[string, number, number, number, number]> = [
    ['no time passed', 100, 0, 10_000, 100],
    ['one time constant', 100, 10_000, 10_000, 100 / Math.E],
    ['two time constants', 100, 20_000, 10_000, 100 / Math.E ** 2],
    ['shorter decay', 100, 1_000, 1_000, 100 / Math.E],
    ['clock read out of order', 100, -5_000, 10_000, 100],
  ];
  for (const [name, estimate, elapsed, decay, expected] of cases) {
    it(name, () => close(decayEstimate(estimate, elapsed, decay), expected));
  }
});

describe('updateEstimate', () => {
  it('takes a peak at once, however little time passed', () => {
    assert.equal(updateEstimate(10, 0, 80, 10_000), 80);
    assert.equal(updateEstimate(10, 1, 11, 10_000), 11);
  });

  it('blends a lower RTT into the decayed estimate by the time since the last update', () => {
    const w = Math.exp(-0.5);
    close(updateEstimate(100, 5_000, 10, 10_000), 100 * w * w + 10 * (1 - w));
  });

  it('moves at least MIN_RESPONSE_WEIGHT of the way toward a lower RTT, even in the same instant', () => {
    close(updateEstimate(100, 0, 10, 10_000), 100 * (1 - MIN_RESPONSE_WEIGHT) + 10 * MIN_RESPONSE_WEIGHT);
    const w = Math.exp(-0.1); // 1 s of 10 s: less than the floor
    close(
      updateEstimate(100, 1_000, 10, 10_000),
      100 * w * (1 - MIN_RESPONSE_WEIGHT) + 10 * MIN_RESPONSE_WEIGHT,
    );
  });

  it('lands between the RTT and the current estimate, and rises with the RTT', () => {
    const ms = fc.double({ min: 0, max: 1e5, noNaN: true });
    fc.assert(
      fc.property(
        ms,
        ms,
        ms,
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        (estimate, elapsed, rtt, decay) => {
          const current = decayEstimate(estimate, elapsed, decay);
          const next = updateEstimate(estimate, elapsed, rtt, decay);
          assert.ok(next >= Math.min(rtt, current) - 1e-9 && next <= Math.max(rtt, current) + 1e-9);
          assert.ok(updateEstimate(estimate, elapsed, rtt + 1, decay) >= next);
        },
      ),
      PROPERTY,
    );
  });
});

describe('PeakEwma', () => {
  it('answers the prior until the first observation', () => {
    assert.equal(new PeakEwma().estimate(0), DEFAULT_PRIOR_MS);
    assert.equal(new PeakEwma().estimate(1e9), DEFAULT_PRIOR_MS);
    assert.equal(new PeakEwma({ priorMs: 250 }).estimate(5), 250);
  });

  it('replaces the prior with the first observation, lower or higher', () => {
    for (const rtt of [1, 30, 500]) {
      const ewma = new PeakEwma();
      ewma.observe(rtt, 1_000);
      assert.equal(ewma.estimate(1_000), rtt);
    }
  });

  it('jumps to a peak', () => {
    const ewma = new PeakEwma();
    ewma.observe(10, 0);
    ewma.observe(10, 100);
    ewma.observe(400, 101);
    assert.equal(ewma.estimate(101), 400);
  });

  it('comes down step by step toward a lower steady RTT', () => {
    const ewma = new PeakEwma();
    ewma.observe(200, 0);
    let previous = ewma.estimate(0);
    for (let now = 100; now <= 60_000; now += 100) {
      ewma.observe(10, now);
      const estimate = ewma.estimate(now);
      assert.ok(estimate <= previous, `rose from ${previous} to ${estimate} at ${now}`);
      previous = estimate;
    }
    close(previous, 10, 0.5);
    // Slower to fall than to rise: five responses later a 200 ms peak still shows...
    const slow = new PeakEwma();
    slow.observe(200, 0);
    for (let now = 1; now <= 5; now++) slow.observe(10, now);
    assert.ok(slow.estimate(5) > 100, `after 5 responses: ${slow.estimate(5)}`);
    // ...and some forty responses, however close together, forget it (time alone would take 30 s).
    for (let now = 6; now <= 45; now++) slow.observe(10, now);
    assert.ok(slow.estimate(45) < 12, `after 45 responses: ${slow.estimate(45)}`);
  });

  it('decays while idle, so a degraded backend is tried again', () => {
    const ewma = new PeakEwma();
    ewma.observe(1_000, 0);
    assert.equal(ewma.estimate(0), 1_000);
    close(ewma.estimate(DEFAULT_DECAY_MS), 1_000 / Math.E);
    assert.ok(ewma.estimate(60_000) < DEFAULT_PRIOR_MS);
    // Reading does not change the state.
    close(ewma.estimate(DEFAULT_DECAY_MS), 1_000 / Math.E);
    const quick = new PeakEwma({ decayMs: 1_000 });
    quick.observe(1_000, 0);
    close(quick.estimate(1_000), 1_000 / Math.E);
  });

  it('counts a failure as at least the failure penalty', () => {
    const cases: Array<[string, PeakEwma, number, number]> = [
      ['a fast failure', new PeakEwma(), 2, DEFAULT_FAILURE_PENALTY_MS],
      ['a slow failure', new PeakEwma(), 3_000, 3_000],
      ['a custom penalty', new PeakEwma({ failurePenaltyMs: 5_000 }), 2, 5_000],
    ];
    for (const [name, ewma, rtt, expected] of cases) {
      ewma.observe(5, 0);
      ewma.observeFailure(rtt, 10);
      assert.equal(ewma.estimate(10), expected, name);
    }
  });

  it('never lowers the estimate on a failure', () => {
    const ewma = new PeakEwma();
    ewma.observe(4_000, 0);
    const before = ewma.estimate(1_000);
    ewma.observeFailure(10, 1_000);
    close(ewma.estimate(1_000), before, 1e-9 * before);
    close(ewma.estimate(1_000 + DEFAULT_DECAY_MS), before / Math.E);
    const fresh = new PeakEwma();
    fresh.observeFailure(10, 0);
    assert.equal(fresh.estimate(0), DEFAULT_FAILURE_PENALTY_MS);
  });

  it('ignores RTTs that are not measurements', () => {
    const ewma = new PeakEwma();
    ewma.observe(Number.NaN, 0);
    ewma.observe(-3, 0);
    assert.equal(ewma.estimate(0), DEFAULT_PRIOR_MS);
    ewma.observe(20, 0);
    ewma.observe(Number.NaN, 10);
    assert.equal(ewma.estimate(0), 20);
    ewma.observeFailure(Number.NaN, 10);
    assert.equal(ewma.estimate(10), DEFAULT_FAILURE_PENALTY_MS);
  });
});
