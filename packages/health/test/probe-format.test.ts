import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHealthJson, formatText } from '../src/probe-format.ts';
import type { ProbeReport } from '../src/probe-report.ts';

const at = Date.parse('2026-01-02T03:04:05.000Z');
const failing: ProbeReport = {
  kind: 'readiness',
  status: 'fail',
  entries: [
    { name: 'shutdown', type: 'lifecycle', status: 'pass', at },
    { name: 'db', type: 'gate', status: 'fail', reason: 'warming', at },
    { name: 'cache', type: 'check', status: 'warn', reason: 'slow', durationMs: 12.3456, at },
  ],
  unknownExcludes: [],
};

test('text: "ok" when passing and not verbose', () => {
  const report: ProbeReport = { ...failing, status: 'pass', entries: [failing.entries[0]!] };
  assert.equal(formatText(report, { verbose: false, exposeReasons: true }), 'ok\n');
  assert.equal(
    formatText(report, { verbose: true, exposeReasons: true }),
    '[+]shutdown ok\nreadiness check passed\n',
  );
});

test('text: a failure always lists every entry, with reasons or withheld', () => {
  assert.equal(
    formatText(failing, { verbose: false, exposeReasons: true }),
    '[+]shutdown ok\n[-]db failed: warming\n[!]cache warn: slow\nreadiness check failed\n',
  );
  assert.equal(
    formatText(failing, { verbose: false, exposeReasons: false }),
    '[+]shutdown ok\n[-]db failed: reason withheld\n[!]cache warn: reason withheld\nreadiness check failed\n',
  );
});

test('text: unknown excludes are reported', () => {
  const report: ProbeReport = { ...failing, status: 'pass', entries: [], unknownExcludes: ['nope'] };
  assert.match(formatText(report, { verbose: false, exposeReasons: true }), /no matches for "nope"/);
});

test('health+json: IETF shape with checks keyed by name and durations', () => {
  const body = JSON.parse(formatHealthJson(failing, { verbose: false, exposeReasons: true }));
  assert.equal(body.status, 'fail');
  assert.deepEqual(Object.keys(body.checks), ['shutdown', 'db', 'cache']);
  assert.deepEqual(body.checks.db, [
    { componentType: 'gate', status: 'fail', time: '2026-01-02T03:04:05.000Z', output: 'warming' },
  ]);
  assert.deepEqual(body.checks.cache[0], {
    componentType: 'check',
    status: 'warn',
    time: '2026-01-02T03:04:05.000Z',
    observedValue: 12.346,
    observedUnit: 'ms',
    output: 'slow',
  });
  assert.equal(body.checks.shutdown[0].output, undefined);
});
