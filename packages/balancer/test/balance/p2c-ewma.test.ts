import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Candidate } from '../../src/balance/candidate.ts';
import { P2cEwma, peakEwmaCost } from '../../src/balance/p2c-ewma.ts';
import { cheapest, MAX_SAMPLES, pickPowerOfTwo } from '../../src/balance/power-of-two-choices.ts';
import { scriptedRng, seededRng } from '../support/seeded-rng.ts';
import { candidate, candidates, countPicks, share } from './candidates.ts';

const PICKS = 10_000;
const PROPERTY = { seed: 42, numRuns: 500 };

describe('peakEwmaCost', () => {
  const cases: Array<[string, Parameters<typeof candidate>[1], number]> = [
    ['idle', { latencyMs: 10 }, 10],
    ['in flight multiplies the latency', { latencyMs: 10, inFlight: 3 }, 40],
    ['a heavier backend looks cheaper', { latencyMs: 10, inFlight: 1, weight: 4 }, 5],
    ['slow start makes a backend look dearer', { latencyMs: 10, weight: 1, effectiveWeight: 0.1 }, 100],
  ];
  for (const [name, load, expected] of cases) {
    it(name, () => assert.equal(peakEwmaCost(candidate('x', load), 0), expected));
  }

  it('reads the latency at the pick time', () => {
    const seen: number[] = [];
    const c: Candidate = { ...candidate('x'), latencyMs: (now) => seen.push(now) };
    peakEwmaCost(c, 1234);
    assert.deepEqual(seen, [1234]);
  });
});

describe('pickPowerOfTwo sampling', () => {
  it('samples two distinct candidates, every pair equally often', () => {
    const list = candidates(4);
    const pairs = new Map<string, number>();
    const seen: string[] = [];
    const recordingCost = (c: Candidate) => {
      seen.push(c.id);
      return 1;
    };
    const input = { rng: seededRng(1), now: 0 };
    const samples = 60_000;
    for (let i = 0; i < samples; i++) {
      seen.length = 0;
      pickPowerOfTwo(list, input, recordingCost);
      assert.equal(seen.length, 2);
      assert.notEqual(seen[0], seen[1]);
      const key = [...seen].sort().join('+');
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    assert.equal(pairs.size, 6);
    for (const [pair, count] of pairs) {
      assert.ok(Math.abs(count / samples - 1 / 6) < 0.01, `${pair}: ${count / samples}`);
    }
  });

  it('maps the two draws as a = floor(r n), b = floor(r (n - 1)) skipping a', () => {
    const list = candidates(3);
    // Equal costs: the first sampled (a) wins, which exposes a.
    const cases: Array<[number[], string]> = [
      [[0, 0], 'b0'],
      [[0.5, 0], 'b1'],
      [[0.99, 0.99], 'b2'],
    ];
    for (const [draws, expected] of cases) {
      assert.equal(
        new P2cEwma().pick(list, { rng: scriptedRng(draws), now: 0 })?.id,
        expected,
        String(draws),
      );
    }
  });
});

describe('P2cEwma', () => {
  it('handles no candidates and a single one', () => {
    const p2c = new P2cEwma();
    const only = candidate('only');
    const rng = seededRng(2);
    assert.equal(p2c.pick([], { rng, now: 0 }), undefined);
    assert.equal(p2c.pick([only], { rng, now: 0 }), only);
    assert.equal(p2c.pick([only], { rng, now: 0, excluded: new Set(['only']) }), undefined);
    assert.equal(p2c.pick([only], { rng, now: 0, excluded: new Set(['other']) }), only);
  });

  it('picks the cheaper of two, the first sampled on a tie', () => {
    const fast = candidate('fast', { latencyMs: 1 });
    const slow = candidate('slow', { latencyMs: 50 });
    const p2c = new P2cEwma();
    for (const draws of [
      [0, 0],
      [0.7, 0],
    ]) {
      assert.equal(p2c.pick([fast, slow], { rng: scriptedRng(draws), now: 0 }), fast);
      assert.equal(p2c.pick([slow, fast], { rng: scriptedRng(draws), now: 0 }), fast);
    }
    const [a, b] = candidates(2);
    assert.equal(p2c.pick([a!, b!], { rng: scriptedRng([0, 0]), now: 0 }), a);
    assert.equal(p2c.pick([a!, b!], { rng: scriptedRng([0.7, 0]), now: 0 }), b);
  });

  it('never picks a backend that is slower than every other (no self-pairs without replacement)', () => {
    for (const n of [2, 3, 5]) {
      const list = candidates(n, { latencyMs: 1, inFlight: 2 });
      list[1] = candidate('slow', { latencyMs: 50, inFlight: 2 });
      const counts = countPicks(new P2cEwma(), list, PICKS, { rng: seededRng(n), now: 0 });
      assert.equal(counts.get('slow'), undefined, `n = ${n}`);
      assert.equal(counts.get('none'), undefined);
    }
  });

  it('spreads evenly over equal backends', () => {
    const list = candidates(5);
    const counts = countPicks(new P2cEwma(), list, 50_000, { rng: seededRng(3), now: 0 });
    for (const c of list) assert.ok(Math.abs(share(counts, c.id, 50_000) - 0.2) < 0.01, c.id);
  });

  it('never returns an excluded backend and finds the last one left', () => {
    const list = candidates(5);
    const cases: Array<[string[], string | undefined]> = [
      [['b0', 'b1', 'b2', 'b3'], 'b4'],
      [['b1', 'b2', 'b3', 'b4'], 'b0'],
      [['b0', 'b1', 'b2', 'b3', 'b4'], undefined],
    ];
    for (const [ids, expected] of cases) {
      const excluded = new Set(ids);
      const counts = countPicks(new P2cEwma(), list, 1_000, { rng: seededRng(4), now: 0, excluded });
      assert.deepEqual([...counts.keys()], [expected ?? 'none'], ids.join());
    }
  });

  it('scans for the cheapest allowed backend when every sample hits an excluded one', () => {
    const list = [
      candidate('excluded', { latencyMs: 1 }),
      candidate('dear', { latencyMs: 40 }),
      candidate('cheap', { latencyMs: 20 }),
    ];
    const draws: number[] = [];
    const rng = () => {
      const r = draws.length % 2 === 0 ? 0 : 0.3; // always samples (excluded, dear)
      draws.push(r);
      return r;
    };
    const picked = new P2cEwma().pick(list, { rng, now: 0, excluded: new Set(['excluded']) });
    assert.equal(picked?.id, 'cheap');
    assert.equal(draws.length, 2 * MAX_SAMPLES);
    assert.equal(cheapest(list, 0, peakEwmaCost, undefined)?.id, 'excluded');
    assert.equal(cheapest(list, 0, peakEwmaCost, new Set(list.map((c) => c.id))), undefined);
  });

  it('returns a candidate not excluded, or undefined exactly when none is left', () => {
    const load = fc.record({
      latencyMs: fc.double({ min: 0.01, max: 1e4, noNaN: true }),
      inFlight: fc.nat(100),
      effectiveWeight: fc.double({ min: 0.01, max: 100, noNaN: true }),
      excluded: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(load, { maxLength: 12 }), fc.integer(), (loads, seed) => {
        const list = loads.map((l, i) => candidate(`b${i}`, l));
        const excluded = new Set(list.filter((_, i) => loads[i]!.excluded).map((c) => c.id));
        const rng = seededRng(seed);
        for (let i = 0; i < 20; i++) {
          const picked = new P2cEwma().pick(list, { rng, now: 0, excluded });
          if (picked === undefined) assert.equal(excluded.size, list.length);
          else {
            assert.ok(list.includes(picked));
            assert.ok(!excluded.has(picked.id));
          }
        }
      }),
      PROPERTY,
    );
  });
});
