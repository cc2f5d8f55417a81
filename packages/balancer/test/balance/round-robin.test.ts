import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candidate, PickInput } from '../../src/balance/candidate.ts';
import { RoundRobin } from '../../src/balance/round-robin.ts';
import { candidate } from './candidates.ts';

// Round robin draws no random numbers; an rng that throws proves it.
const input: PickInput = {
  rng: () => {
    throw new Error('round robin must not draw');
  },
  now: 0,
};

function sequence(rr: RoundRobin, list: readonly Candidate[], picks: number, pickInput = input): string {
  let ids = '';
  for (let i = 0; i < picks; i++) ids += rr.pick(list, pickInput)?.id ?? '-';
  return ids;
}

describe('RoundRobin', () => {
  it("follows nginx's smooth sequence for weights 5, 1, 1", () => {
    const list = [candidate('a', { weight: 5 }), candidate('b'), candidate('c')];
    assert.equal(sequence(new RoundRobin(), list, 14), 'aabacaa'.repeat(2));
  });

  it('gives exact shares over every cycle', () => {
    const cases: Array<[number[], string]> = [
      [[1, 1, 1], 'abc'],
      [[3, 2, 1], 'abacba'],
      [[1, 2], 'bab'],
      [[4, 4], 'ab'],
    ];
    for (const [weights, cycle] of cases) {
      const list = weights.map((w, i) => candidate('abcdef'[i]!, { weight: w }));
      const total = weights.reduce((sum, w) => sum + w, 0);
      const picks = sequence(new RoundRobin(), list, total * 50);
      assert.equal(picks.slice(0, cycle.length), cycle, String(weights));
      for (let start = 0; start < picks.length; start += total) {
        const window = picks.slice(start, start + total);
        weights.forEach((w, i) => {
          assert.equal(window.split('abcdef'[i]!).length - 1, w, `${weights} window ${start}`);
        });
      }
    }
  });

  it('uses the effective weight, so a backend in slow start gets its fraction', () => {
    const list = [candidate('a', { weight: 1 }), candidate('b', { weight: 1, effectiveWeight: 0.5 })];
    const picks = sequence(new RoundRobin(), list, 300);
    assert.equal(picks.split('a').length - 1, 200);
  });

  it('skips excluded backends, and answers undefined when none is left', () => {
    const list = [candidate('a'), candidate('b'), candidate('c')];
    const rr = new RoundRobin();
    assert.equal(sequence(rr, list, 6, { ...input, excluded: new Set(['b']) }), 'acacac');
    assert.equal(sequence(rr, list, 2, { ...input, excluded: new Set(['a', 'b', 'c']) }), '--');
    assert.equal(rr.pick([], input), undefined);
  });

  it('keeps each backend’s place by id when the candidates array changes', () => {
    const a = candidate('a', { weight: 5 });
    const b = candidate('b');
    const c = candidate('c');
    const rr = new RoundRobin();
    assert.equal(sequence(rr, [a, b, c], 3), 'aab');
    // The same set in a new array, reordered: the sequence carries on.
    assert.equal(sequence(rr, [c, a, b], 4), 'acaa');
    // c leaves, d arrives with no history: a and b continue from their current weights.
    const d = candidate('d');
    const picks = sequence(rr, [a, b, d], 70);
    assert.equal(picks.split('a').length - 1, 50);
    assert.equal(picks.split('b').length - 1, 10);
    assert.equal(picks.split('d').length - 1, 10);
    // c comes back: it starts from zero rather than a weight left over from before.
    const rr2 = new RoundRobin();
    sequence(rr2, [a, b, c], 1);
    sequence(rr2, [a, b], 5);
    assert.equal(sequence(rr2, [a, b, c], 7).split('c').length - 1, 1);
  });
});
