import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BalancerErrorCodes } from '../../src/errors.ts';
import {
  mayEject,
  OutlierDetector,
  type OutlierOptions,
  resolveOutlierOptions,
} from '../../src/health/outlier-detector.ts';

const BASE = 30_000;

/** Fails `n` times at `now`; returns whether the last failure ejected. */
function failTimes(detector: OutlierDetector, n: number, now: number): boolean {
  let ejected = false;
  for (let i = 0; i < n; i++) ejected = detector.recordFailure(now);
  return ejected;
}

describe('OutlierDetector', () => {
  it('ejects on the consecutiveFailures-th failure in a row, not before', () => {
    const detector = new OutlierDetector();
    for (let i = 1; i <= 4; i++) {
      assert.equal(detector.recordFailure(1000), false, `failure ${i}`);
      assert.equal(detector.consecutiveFailures, i);
    }
    assert.equal(detector.isEjected(1000), false);
    assert.equal(detector.recordFailure(1000), true);
    assert.equal(detector.isEjected(1000), true);
    assert.equal(detector.ejectedUntil, 1000 + BASE);
    assert.equal(detector.consecutiveFailures, 0, 'the run is over once it ejected');
  });

  it('a success breaks the run of failures', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 3 });
    failTimes(detector, 2, 0);
    detector.recordSuccess();
    assert.equal(detector.consecutiveFailures, 0);
    assert.equal(failTimes(detector, 2, 0), false);
    assert.equal(detector.recordFailure(0), true);
  });

  it('ends the ejection by itself when its time is up', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 1 });
    assert.equal(detector.ejectedUntil, 0, 'never ejected');
    detector.recordFailure(5000);
    const cases: Array<[number, boolean]> = [
      [5000, true],
      [5000 + BASE - 1, true],
      [5000 + BASE, false],
      [5000 + 10 * BASE, false],
    ];
    for (const [now, ejected] of cases) assert.equal(detector.isEjected(now), ejected, `at ${now}`);
  });

  it('ignores failures of requests in flight while ejected', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 2 });
    failTimes(detector, 2, 0);
    assert.equal(failTimes(detector, 10, 1000), false);
    assert.equal(detector.consecutiveFailures, 0);
    assert.equal(detector.ejectedUntil, BASE, 'not extended');
  });

  it('lengthens repeated ejections: base x count, capped at maxEjectionMs', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 1 });
    // Each failure comes the moment the previous ejection ends: no time to decay.
    const expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10].map((n) => n * BASE);
    let now = 0;
    for (const [i, duration] of expected.entries()) {
      assert.equal(detector.recordFailure(now), true, `ejection ${i + 1}`);
      assert.equal(detector.ejectedUntil - now, duration, `ejection ${i + 1}`);
      now = detector.ejectedUntil;
    }
    assert.equal(detector.ejectionCount(now), 10, 'the multiplier stops at the cap');
  });

  it('caps at maxEjectionMs when it is not a multiple of the base', () => {
    const detector = new OutlierDetector({
      consecutiveFailures: 1,
      baseEjectionMs: 1000,
      maxEjectionMs: 2500,
    });
    const durations: number[] = [];
    let now = 0;
    for (let i = 0; i < 4; i++) {
      detector.recordFailure(now);
      durations.push(detector.ejectedUntil - now);
      now = detector.ejectedUntil;
    }
    assert.deepEqual(durations, [1000, 2000, 2500, 2500]);
  });

  it('forgets one ejection per base period spent back in service', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 1 });
    detector.recordFailure(0); // 30 s, ends at 30 s
    detector.recordFailure(BASE); // 60 s, ends at 90 s
    detector.recordFailure(3 * BASE); // 90 s, ends at 180 s
    const end = 6 * BASE;
    assert.equal(detector.ejectedUntil, end);
    const cases: Array<[number, number]> = [
      [end - 1, 3], // still ejected: no decay
      [end, 3],
      [end + BASE - 1, 3],
      [end + BASE, 2],
      [end + 2 * BASE, 1],
      [end + 3 * BASE, 0],
      [end + 100 * BASE, 0],
    ];
    for (const [now, count] of cases) assert.equal(detector.ejectionCount(now), count, `at ${now}`);
    // Ejected again after one quiet base period: 2 remembered, so this one is the third.
    assert.equal(detector.recordFailure(end + BASE), true);
    assert.equal(detector.ejectedUntil - (end + BASE), 3 * BASE);
  });

  it('starts fresh when ejected once long ago', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 1 });
    detector.recordFailure(0);
    detector.recordFailure(3_600_000);
    assert.equal(detector.ejectedUntil - 3_600_000, BASE);
  });

  it('does not eject when the pool refuses, and ejects on the next failure once it allows', () => {
    const detector = new OutlierDetector({ consecutiveFailures: 3 });
    failTimes(detector, 2, 0);
    assert.equal(detector.recordFailure(0, false), false);
    assert.equal(detector.recordFailure(0, false), false);
    assert.equal(detector.isEjected(0), false);
    assert.equal(detector.consecutiveFailures, 4, 'the run is kept');
    assert.equal(detector.recordFailure(10, true), true);
    assert.equal(detector.ejectedUntil, 10 + BASE);
  });
});

describe('mayEject', () => {
  it('keeps ejections within the percentage, but always allows one', () => {
    const cases: Array<[string, [number, number, number?], boolean]> = [
      ['first of ten', [0, 10], true],
      ['fifth of ten at 50 %', [4, 10], true],
      ['sixth of ten at 50 %', [5, 10], false],
      ['second of three at 50 %', [1, 3], false],
      ['second of four at 50 %', [1, 4], true],
      ['the only backend: one may always be', [0, 1], true],
      ['one at 0 %', [0, 5, 0], true],
      ['a second at 0 %', [1, 5, 0], false],
      ['first at Envoy 10 % of five', [0, 5, 10], true],
      ['second at Envoy 10 % of five', [1, 5, 10], false],
      ['second at Envoy 10 % of twenty', [1, 20, 10], true],
      ['third at Envoy 10 % of twenty', [2, 20, 10], false],
      ['every backend at 100 %', [9, 10, 100], true],
      ['none left to eject at 100 %', [10, 10, 100], false],
      ['empty pool', [0, 0], false],
    ];
    for (const [name, args, expected] of cases) assert.equal(mayEject(...args), expected, name);
  });
});

describe('resolveOutlierOptions', () => {
  it('applies defaults and freezes the result', () => {
    const resolved = resolveOutlierOptions();
    assert.deepEqual(resolved, {
      consecutiveFailures: 5,
      baseEjectionMs: 30_000,
      maxEjectionMs: 300_000,
      maxEjectionPercent: 50,
    });
    assert.ok(Object.isFrozen(resolved));
  });

  it('raises the default maximum to a larger base', () => {
    assert.equal(resolveOutlierOptions({ baseEjectionMs: 600_000 }).maxEjectionMs, 600_000);
  });

  it('refuses bad values, naming the key', () => {
    const cases: Array<[OutlierOptions, RegExp]> = [
      [
        { consecutiveFailures: 0 },
        /^outlier\.consecutiveFailures must be a whole number from 1 to 1000, got 0$/,
      ],
      [{ consecutiveFailures: 2.5 }, /^outlier\.consecutiveFailures /],
      [{ baseEjectionMs: 0 }, /^outlier\.baseEjectionMs must be a number from 1 ms to 86400000 ms, got 0$/],
      [{ baseEjectionMs: Number.POSITIVE_INFINITY }, /^outlier\.baseEjectionMs /],
      [
        { baseEjectionMs: 60_000, maxEjectionMs: 30_000 },
        /^outlier\.maxEjectionMs must be a number from 60000 ms/,
      ],
      [{ maxEjectionPercent: 101 }, /^outlier\.maxEjectionPercent /],
      [{ maxEjectionPercent: -1 }, /^outlier\.maxEjectionPercent /],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => resolveOutlierOptions(options), {
        code: BalancerErrorCodes.INVALID_CONFIG,
        message,
      });
      assert.throws(() => new OutlierDetector(options), { code: BalancerErrorCodes.INVALID_CONFIG });
    }
  });
});
