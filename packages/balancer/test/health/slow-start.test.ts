import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { slowStartFactor } from '../../src/health/slow-start.ts';

const PROPERTY = { seed: 42, numRuns: 1000 };

describe('slowStartFactor', () => {
  it('follows max(min, (t / window) ^ (1 / aggression))', () => {
    const cases: Array<[string, [number, number, number?, number?], number]> = [
      ['start of the window: the minimum', [0, 10_000], 0.1],
      ['linear below the minimum', [500, 10_000], 0.1],
      ['linear at the minimum', [1000, 10_000], 0.1],
      ['linear, a quarter in', [2500, 10_000], 0.25],
      ['linear, half way', [5000, 10_000], 0.5],
      ['linear, just before the end', [9999, 10_000], 0.9999],
      ['end of the window', [10_000, 10_000], 1],
      ['past the window', [60_000, 10_000], 1],
      ['window 0: slow start off', [0, 0], 1],
      ['negative elapsed counts as 0', [-50, 10_000], 0.1],
      ['minPercent 25', [1000, 10_000, 25], 0.25],
      ['minPercent 100: full weight at once', [0, 10_000, 100], 1],
      ['minPercent 0 at the start', [0, 10_000, 0], 0],
      ['aggression 2: square root, faster early', [2500, 10_000, 10, 2], 0.5],
      ['aggression 0.5: square, slower early', [5000, 10_000, 10, 0.5], 0.25],
      ['aggression 0.5 under the minimum', [2000, 10_000, 10, 0.5], 0.1],
      ['aggression 4', [625, 10_000, 10, 4], 0.5],
    ];
    for (const [name, args, expected] of cases) {
      const got = slowStartFactor(...args);
      assert.ok(Math.abs(got - expected) < 1e-12, `${name}: ${got} != ${expected}`);
    }
  });

  it('stays within [min, 1] and never decreases with time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (a, b, window, minPercent, aggression) => {
          const early = slowStartFactor(Math.min(a, b), window, minPercent, aggression);
          const late = slowStartFactor(Math.max(a, b), window, minPercent, aggression);
          return early >= minPercent / 100 && late <= 1 && early <= late;
        },
      ),
      PROPERTY,
    );
  });
});
