import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeastRequest, leastRequestCost } from '../../src/balance/least-request.ts';
import { seededRng } from '../support/seeded-rng.ts';
import { candidate, countPicks, share } from './candidates.ts';

const PICKS = 60_000;

describe('leastRequestCost', () => {
  const cases: Array<[string, Parameters<typeof candidate>[1], number]> = [
    ['idle', {}, 1],
    ['busy', { inFlight: 3 }, 4],
    ['weight divides', { inFlight: 3, weight: 2 }, 2],
    ['slow start multiplies', { effectiveWeight: 0.25 }, 4],
    ['latency does not count', { latencyMs: 5_000 }, 1],
  ];
  for (const [name, load, expected] of cases) {
    it(name, () => assert.equal(leastRequestCost(candidate('x', load)), expected));
  }
});

describe('LeastRequest', () => {
  // Three backends, every pair sampled with probability 1/3: the expected shares follow from
  // which member wins each pair (the first sampled, half the time each, on a tie).
  const cases: Array<[string, Array<Parameters<typeof candidate>[1]>, number[]]> = [
    [
      'equal weights: the least busy of each pair',
      [{ inFlight: 0 }, { inFlight: 5 }, { inFlight: 10 }],
      [2 / 3, 1 / 3, 0],
    ],
    ['all equal: uniform', [{}, {}, {}], [1 / 3, 1 / 3, 1 / 3]],
    [
      'latency is ignored',
      [{ latencyMs: 1 }, { latencyMs: 100 }, { latencyMs: 1000 }],
      [1 / 3, 1 / 3, 1 / 3],
    ],
    [
      'a heavier backend wins with one more request',
      [{ weight: 3, inFlight: 1 }, {}, {}],
      [2 / 3, 1 / 6, 1 / 6],
    ],
    ['a heavier backend ties at its weight', [{ weight: 3, inFlight: 2 }, {}, {}], [1 / 3, 1 / 3, 1 / 3]],
    ['an unweighted busy backend loses', [{ inFlight: 1 }, {}, {}], [0, 1 / 2, 1 / 2]],
  ];
  for (const [name, loads, expected] of cases) {
    it(name, () => {
      const list = loads.map((load, i) => candidate(`b${i}`, load));
      const counts = countPicks(new LeastRequest(), list, PICKS, { rng: seededRng(7), now: 0 });
      expected.forEach((want, i) => {
        const got = share(counts, `b${i}`, PICKS);
        assert.ok(Math.abs(got - want) < 0.01, `b${i}: ${got} vs ${want}`);
      });
    });
  }

  it('never returns an excluded backend', () => {
    const list = [candidate('a'), candidate('b', { inFlight: 9 }), candidate('c', { inFlight: 9 })];
    const counts = countPicks(new LeastRequest(), list, 1_000, {
      rng: seededRng(8),
      now: 0,
      excluded: new Set(['a']),
    });
    assert.equal(counts.get('a'), undefined);
    assert.equal((counts.get('b') ?? 0) + (counts.get('c') ?? 0), 1_000);
    assert.equal(
      new LeastRequest().pick(list, { rng: seededRng(8), now: 0, excluded: new Set(['a', 'b', 'c']) }),
      undefined,
    );
  });
});
