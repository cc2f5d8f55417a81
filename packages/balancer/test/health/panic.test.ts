import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inPanic } from '../../src/health/panic.ts';

describe('inPanic', () => {
  it('is true when fewer than the threshold % of the backends are healthy', () => {
    const cases: Array<[string, [number, number, number?], boolean]> = [
      ['all healthy', [4, 4], false],
      ['exactly half: not fewer than 50 %', [2, 4], false],
      ['one short of half', [1, 4], true],
      ['none healthy', [0, 4], true],
      ['one of one', [1, 1], false],
      ['none of one', [0, 1], true],
      ['one of three is under 50 %', [1, 3], true],
      ['two of three', [2, 3], false],
      ['no backends at all is not panic', [0, 0], false],
      ['threshold 0 turns panic off', [0, 4, 0], false],
      ['threshold 100: any unhealthy backend', [9, 10, 100], true],
      ['threshold 100, all healthy', [10, 10, 100], false],
      ['threshold 10: 1 of 10 is enough', [1, 10, 10], false],
      ['threshold 10: 0 of 10 is not', [0, 10, 10], true],
      ['threshold 30, 3 of 10 is exactly 30 %', [3, 10, 30], false],
      ['threshold 30, 2 of 10', [2, 10, 30], true],
      ['fractional threshold 33.4, 1 of 3', [1, 3, 33.4], true],
      ['fractional threshold 33.3, 1 of 3', [1, 3, 33.3], false],
    ];
    for (const [name, args, expected] of cases) {
      assert.equal(inPanic(...args), expected, name);
    }
  });
});
