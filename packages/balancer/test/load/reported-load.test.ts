import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { P2cEwma, peakEwmaCost } from '../../src/balance/p2c-ewma.ts';
import { MAX_COUNTED_UTILIZATION, ReportedLoad } from '../../src/load/reported-load.ts';
import { candidate, countPicks, share } from '../balance/candidates.ts';
import { seededRng } from '../support/seeded-rng.ts';

const DECAY = 5000;

function load(weight = 1): ReportedLoad {
  return new ReportedLoad({ weight, decayMs: DECAY });
}

describe('ReportedLoad', () => {
  it('costs nothing without a report', () => {
    const l = load();
    assert.equal(l.reported, false);
    assert.equal(l.utilization(1000), 0);
    assert.equal(l.penalty(1000), 1);
  });

  it('penalises as a queue does: 1 + w * u / (1 - u)', () => {
    const cases: Array<[number, number, number]> = [
      [1, 0, 1],
      [1, 0.5, 2],
      [1, 0.8, 5],
      [2, 0.5, 3],
      [0.5, 0.75, 2.5],
    ];
    for (const [weight, u, expected] of cases) {
      const l = load(weight);
      l.report(u, 100);
      assert.ok(
        Math.abs(l.penalty(100) - expected) < 1e-9,
        `w=${weight} u=${u}: ${l.penalty(100)} != ${expected}`,
      );
    }
  });

  it('caps the utilization counted so the penalty stays finite', () => {
    const l = load();
    l.report(1, 0);
    const cap = 1 + MAX_COUNTED_UTILIZATION / (1 - MAX_COUNTED_UTILIZATION);
    assert.ok(Math.abs(l.penalty(0) - cap) < 1e-9);
    l.report(7, 0); // ORCA allows cpu_utilization above 1: clamped
    assert.equal(l.utilization(0), 1);
  });

  it('fades a report with time, so a backend it kept idle is tried again', () => {
    const l = load();
    l.report(0.9, 0);
    assert.equal(l.utilization(0), 0.9);
    assert.ok(Math.abs(l.utilization(DECAY) - 0.9 / Math.E) < 1e-9);
    assert.ok(
      l.penalty(DECAY * 4) < 1.02,
      `after four decay times the penalty is ~1, got ${l.penalty(DECAY * 4)}`,
    );
    assert.equal(l.utilization(-5), 0.9, 'a clock read out of order does not fade it');
  });

  it('ignores NaN and negative reports and keeps the last good one', () => {
    const l = load();
    l.report(0.4, 0);
    l.report(Number.NaN, 1);
    l.report(-0.2, 2);
    assert.equal(l.utilization(0), 0.4);
  });

  it('weight 0 turns reports off', () => {
    const l = load(0);
    l.report(0.99, 0);
    assert.equal(l.penalty(0), 1);
    assert.equal(l.utilization(0), 0.99, 'still known for metrics');
  });
});

describe('p2c-ewma with load reports', () => {
  it('multiplies the peak-EWMA cost by the penalty', () => {
    const c = { ...candidate('x', { latencyMs: 10, inFlight: 1 }), loadPenalty: () => 3 };
    assert.equal(peakEwmaCost(c, 0), 60);
  });

  it('sends a saturated backend far less than its share, at equal latency', () => {
    const busy = load();
    busy.report(0.95, 0);
    const calm = load();
    calm.report(0.2, 0);
    const list = [
      { ...candidate('busy'), loadPenalty: (now: number) => busy.penalty(now) },
      { ...candidate('a'), loadPenalty: (now: number) => calm.penalty(now) },
      { ...candidate('b'), loadPenalty: (now: number) => calm.penalty(now) },
    ];
    const picks = 3000;
    const counts = countPicks(new P2cEwma(), list, picks, { rng: seededRng(3), now: 0 });
    // Equal costs would give it a third; losing every comparison leaves it none.
    assert.equal(share(counts, 'busy', picks), 0);
    // Four decay times later the report is all but gone: latency decides again (here, by 5 %).
    const slower = list.map((c) => (c.id === 'busy' ? c : { ...c, latencyMs: () => 10.5 }));
    const later = countPicks(new P2cEwma(), slower, picks, { rng: seededRng(3), now: 20_000 });
    assert.ok(
      share(later, 'busy', picks) > 0.5,
      'a faded report gives it back the traffic its latency earns',
    );
  });
});
