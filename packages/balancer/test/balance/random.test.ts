import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickWeightedRandom, WeightedRandom } from '../../src/balance/random.ts';
import { scriptedRng, seededRng } from '../support/seeded-rng.ts';
import { candidate, countPicks, share } from './candidates.ts';

const PICKS = 100_000;

describe('WeightedRandom', () => {
  const cases: Array<[string, Array<Parameters<typeof candidate>[1]>, string[], number[]]> = [
    ['equal weights', [{}, {}, {}, {}], [], [0.25, 0.25, 0.25, 0.25]],
    [
      'weights 1 2 3 4',
      [{ weight: 1 }, { weight: 2 }, { weight: 3 }, { weight: 4 }],
      [],
      [0.1, 0.2, 0.3, 0.4],
    ],
    ['effective weight, not weight', [{ weight: 4, effectiveWeight: 1 }, { weight: 1 }], [], [0.5, 0.5]],
    [
      'excluded share spread over the rest',
      [{ weight: 1 }, { weight: 3 }, { weight: 6 }],
      ['b2'],
      [0.25, 0.75, 0],
    ],
    ['in flight is ignored', [{ inFlight: 100 }, {}], [], [0.5, 0.5]],
  ];
  for (const [name, loads, excludedIds, expected] of cases) {
    it(name, () => {
      const list = loads.map((load, i) => candidate(`b${i}`, load));
      const excluded = new Set(excludedIds);
      const counts = countPicks(new WeightedRandom(), list, PICKS, { rng: seededRng(11), now: 0, excluded });
      expected.forEach((want, i) => {
        const got = share(counts, `b${i}`, PICKS);
        assert.ok(Math.abs(got - want) < 0.006, `b${i}: ${got} vs ${want}`);
      });
    });
  }

  it('maps the draw onto cumulative weights, ends included', () => {
    const list = [
      candidate('a', { weight: 1 }),
      candidate('b', { weight: 2 }),
      candidate('c', { weight: 1 }),
    ];
    const cases: Array<[number, string]> = [
      [0, 'a'],
      [0.2499, 'a'],
      [0.25, 'b'],
      [0.7499, 'b'],
      [0.75, 'c'],
      [0.9999999999999999, 'c'],
    ];
    for (const [draw, expected] of cases) {
      assert.equal(
        pickWeightedRandom(list, { rng: scriptedRng([draw]), now: 0 })?.id,
        expected,
        String(draw),
      );
    }
  });

  it('answers undefined when nothing is left', () => {
    const rng = seededRng(12);
    assert.equal(new WeightedRandom().pick([], { rng, now: 0 }), undefined);
    assert.equal(
      new WeightedRandom().pick([candidate('a')], { rng, now: 0, excluded: new Set(['a']) }),
      undefined,
    );
  });
});
