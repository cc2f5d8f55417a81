import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BalancerErrorCodes } from '../../src/errors.ts';
import { BACKEND_STATES, type BackendState } from '../../src/health/backend-state.ts';
import {
  type CheckOutcome,
  ReadinessTracker,
  type ReadinessTrackerOptions,
  resolveReadinessTrackerOptions,
} from '../../src/health/readiness-tracker.ts';

// One letter per outcome keeps the transition table readable.
const OUTCOMES: Record<string, CheckOutcome> = {
  R: { kind: 'ready' },
  D: { kind: 'not-ready', status: 503 },
  E: { kind: 'not-ready', status: 500 },
  F: { kind: 'failed', reason: 'ECONNREFUSED' },
};

const STATE_LETTERS: Record<string, BackendState> = {
  w: 'warming',
  r: 'ready',
  d: 'draining',
  x: 'down',
};

/** Feeds `outcomes` one per ms and returns the state letter after each. */
function run(outcomes: string, options: ReadinessTrackerOptions = {}): string {
  const tracker = new ReadinessTracker(options, 0);
  let states = '';
  let now = 0;
  for (const letter of outcomes) {
    const state = tracker.observe(OUTCOMES[letter]!, ++now);
    assert.equal(tracker.state, state);
    states += Object.keys(STATE_LETTERS).find((k) => STATE_LETTERS[k] === state);
  }
  return states;
}

describe('ReadinessTracker transitions (rise 2, fall 3)', () => {
  const cases: Array<[string, string, string]> = [
    ['warming stays warming on 503', 'DDD', 'www'],
    ['warming stays warming on failures, however many', 'FFFFF', 'wwwww'],
    ['warming stays warming on other statuses', 'EEEE', 'wwww'],
    ['warming -> ready on one ready check', 'R', 'r'],
    ['warming -> ready after failures and 503s', 'FDFR', 'wwwr'],
    ['ready stays ready on ready checks', 'RRR', 'rrr'],
    ['ready -> draining at once on 503', 'RD', 'rd'],
    ['ready -> draining on 503 even after misses', 'RFFD', 'rrrd'],
    ['ready survives fall - 1 failures', 'RFF', 'rrr'],
    ['ready -> down after fall failures in a row', 'RFFF', 'rrrx'],
    ['ready -> down after fall 500s in a row', 'REEE', 'rrrx'],
    ['failures and other statuses add up to fall', 'RFEF', 'rrrx'],
    ['a ready check breaks a run of failures', 'RFFRFF', 'rrrrrr'],
    ['draining stays draining on 503', 'RDDD', 'rddd'],
    ['draining needs rise ready checks: one is not enough', 'RDR', 'rdd'],
    ['draining -> ready after rise ready checks', 'RDRR', 'rddr'],
    ['a 503 breaks a run of ready checks while draining', 'RDRDR', 'rdddd'],
    ['draining -> down after fall failures (listener closed)', 'RDFFF', 'rdddx'],
    ['draining -> down after fall 500s', 'RDEEE', 'rdddx'],
    ['a 503 breaks a run of failures while draining', 'RDFFDFF', 'rdddddd'],
    ['down stays down on 503', 'RFFFD', 'rrrxx'],
    ['down stays down on failures', 'RFFFFF', 'rrrxxx'],
    ['down needs rise ready checks: one is not enough', 'RFFFR', 'rrrxx'],
    ['down -> ready after rise ready checks', 'RFFFRR', 'rrrxxr'],
    ['a failure breaks a run of ready checks while down', 'RFFFRFR', 'rrrxxxx'],
    ['a 503 breaks a run of ready checks while down', 'RFFFRDRR', 'rrrxxxxr'],
  ];
  for (const [name, outcomes, states] of cases) {
    it(name, () => assert.equal(run(outcomes), states));
  }
});

describe('ReadinessTracker with other rise and fall', () => {
  const cases: Array<[string, ReadinessTrackerOptions, string, string]> = [
    ['fall 1: one failure takes a ready backend down', { fall: 1 }, 'RF', 'rx'],
    ['fall 1: one 500 takes a ready backend down', { fall: 1 }, 'RE', 'rx'],
    ['rise 1: one ready check brings a down backend back', { rise: 1, fall: 1 }, 'RFR', 'rxr'],
    ['rise 1: one ready check ends draining', { rise: 1 }, 'RDR', 'rdr'],
    ['rise 3 from down', { rise: 3, fall: 2 }, 'RFFRRR', 'rrxxxr'],
    ['fall 5 tolerates four failures', { fall: 5 }, 'RFFFFRFFFFF', 'rrrrrrrrrrx'],
    ['a 503 still drains at once with fall 100', { fall: 100 }, 'RD', 'rd'],
    ['warming needs one ready check whatever rise is', { rise: 5 }, 'R', 'r'],
  ];
  for (const [name, options, outcomes, states] of cases) {
    it(name, () => assert.equal(run(outcomes, options), states));
  }
});

describe('ReadinessTracker bookkeeping', () => {
  it('records since on transitions only, and becameReadyAt on every entry into ready', () => {
    const tracker = new ReadinessTracker({ rise: 2, fall: 3 }, 100);
    assert.equal(tracker.state, 'warming');
    assert.equal(tracker.since, 100);
    assert.equal(tracker.becameReadyAt, undefined);
    tracker.observe(OUTCOMES.F!, 110);
    assert.equal(tracker.since, 100, 'no transition');
    tracker.observe(OUTCOMES.R!, 120);
    assert.deepEqual([tracker.state, tracker.since, tracker.becameReadyAt], ['ready', 120, 120]);
    tracker.observe(OUTCOMES.R!, 130);
    assert.deepEqual([tracker.since, tracker.becameReadyAt], [120, 120]);
    tracker.observe(OUTCOMES.D!, 140);
    assert.deepEqual([tracker.state, tracker.since, tracker.becameReadyAt], ['draining', 140, 120]);
    tracker.observe(OUTCOMES.R!, 150);
    tracker.observe(OUTCOMES.R!, 160);
    assert.deepEqual([tracker.state, tracker.since, tracker.becameReadyAt], ['ready', 160, 160]);
  });

  it('keeps the last outcome and whether it was answered', () => {
    const tracker = new ReadinessTracker();
    assert.equal(tracker.lastOutcome, undefined);
    assert.equal(tracker.answered, false, 'nothing answered yet');
    const cases: Array<[string, boolean]> = [
      ['R', true],
      ['D', true],
      ['E', true],
      ['F', false],
    ];
    for (const [letter, answered] of cases) {
      tracker.observe(OUTCOMES[letter]!, 1);
      assert.equal(tracker.lastOutcome, OUTCOMES[letter], letter);
      assert.equal(tracker.answered, answered, letter);
    }
  });

  it('counts runs of ready checks and misses', () => {
    const tracker = new ReadinessTracker();
    for (const letter of 'RRR') tracker.observe(OUTCOMES[letter]!, 1);
    assert.deepEqual([tracker.consecutiveReady, tracker.consecutiveMisses], [3, 0]);
    for (const letter of 'FE') tracker.observe(OUTCOMES[letter]!, 1);
    assert.deepEqual([tracker.consecutiveReady, tracker.consecutiveMisses], [0, 2]);
    tracker.observe(OUTCOMES.D!, 1);
    assert.deepEqual([tracker.consecutiveReady, tracker.consecutiveMisses], [0, 0]);
  });

  it('caps the runs, so a long outage still rises after rise ready checks', () => {
    const tracker = new ReadinessTracker({ rise: 2, fall: 3 });
    for (let i = 0; i < 1000; i++) tracker.observe(OUTCOMES.F!, i);
    assert.equal(tracker.consecutiveMisses, 100);
    tracker.observe(OUTCOMES.R!, 1000);
    assert.equal(tracker.observe(OUTCOMES.R!, 1001), 'ready');
  });

  it('remove() is final from every state', () => {
    for (const prefix of ['', 'R', 'RD', 'RFFF']) {
      const tracker = new ReadinessTracker();
      for (const letter of prefix) tracker.observe(OUTCOMES[letter]!, 1);
      assert.equal(tracker.remove(50), 'removed', prefix);
      assert.equal(tracker.since, 50);
      for (const letter of 'RRRDF') assert.equal(tracker.observe(OUTCOMES[letter]!, 60), 'removed', prefix);
      assert.equal(tracker.since, 50, 'no transition out of removed');
    }
  });

  it('only ever reports a listed state', () => {
    const tracker = new ReadinessTracker({ rise: 1, fall: 1 });
    for (const letter of 'RDFERRDDFFRE') {
      assert.ok(BACKEND_STATES.includes(tracker.observe(OUTCOMES[letter]!, 1)));
    }
  });
});

describe('resolveReadinessTrackerOptions', () => {
  it('applies defaults and freezes the result', () => {
    const resolved = resolveReadinessTrackerOptions();
    assert.deepEqual(resolved, { rise: 2, fall: 3 });
    assert.ok(Object.isFrozen(resolved));
    assert.deepEqual(resolveReadinessTrackerOptions({ rise: 1, fall: 100 }), { rise: 1, fall: 100 });
  });

  it('refuses bad values, naming the key', () => {
    const cases: Array<[ReadinessTrackerOptions, RegExp]> = [
      [{ rise: 0 }, /^healthCheck\.rise must be a whole number from 1 to 100, got 0$/],
      [{ rise: 1.5 }, /^healthCheck\.rise /],
      [{ rise: 101 }, /^healthCheck\.rise /],
      [{ fall: -1 }, /^healthCheck\.fall /],
      [{ fall: Number.NaN }, /^healthCheck\.fall /],
      [{ fall: '3' as unknown as number }, /^healthCheck\.fall must be .*, got "3"$/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => resolveReadinessTrackerOptions(options), {
        code: BalancerErrorCodes.INVALID_CONFIG,
        message,
      });
      assert.throws(() => new ReadinessTracker(options), { code: BalancerErrorCodes.INVALID_CONFIG });
    }
  });

  it('names the prefix it is given', () => {
    assert.throws(() => resolveReadinessTrackerOptions({ rise: 0 }, 'probe'), /^BalancerError: probe\.rise /);
  });
});
