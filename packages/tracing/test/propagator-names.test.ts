import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_PROPAGATORS, type PropagatorName, parsePropagators } from '../src/propagator-names.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const KNOWN: PropagatorName[] = ['tracecontext', 'baggage', 'b3', 'b3multi'];
const UNSUPPORTED = 'not supported by readykit';
const UNKNOWN = 'unknown propagator';
const NONE = 'ignored because "none" is also set';
const REASONS = [UNSUPPORTED, UNKNOWN, NONE];

test('selects known names in order, trimmed, each once', () => {
  assert.deepEqual(parsePropagators('tracecontext,baggage'), {
    names: ['tracecontext', 'baggage'],
    ignored: [],
  });
  assert.deepEqual(parsePropagators(' b3 ,\tb3multi '), { names: ['b3', 'b3multi'], ignored: [] });
  assert.deepEqual(parsePropagators('b3,tracecontext,b3,tracecontext'), {
    names: ['b3', 'tracecontext'],
    ignored: [],
  });
  assert.deepEqual(parsePropagators('b3multi,,baggage,'), { names: ['b3multi', 'baggage'], ignored: [] });
});

test('an empty value means unset: the OpenTelemetry default', () => {
  for (const empty of ['', ' ', ',', ' , ,\t']) {
    assert.deepEqual(parsePropagators(empty), { names: [...DEFAULT_PROPAGATORS], ignored: [] }, empty);
  }
  assert.deepEqual(DEFAULT_PROPAGATORS, ['tracecontext', 'baggage']);
  assert.ok(Object.isFrozen(DEFAULT_PROPAGATORS));
  const names = parsePropagators('').names;
  names.push('b3');
  assert.deepEqual(DEFAULT_PROPAGATORS, ['tracecontext', 'baggage'], 'callers get a copy');
  assert.deepEqual(parsePropagators(undefined as unknown as string).names, ['tracecontext', 'baggage']);
});

test('none selects no propagator, whatever else is listed', () => {
  assert.deepEqual(parsePropagators('none'), { names: [], ignored: [] });
  assert.deepEqual(parsePropagators(' none ,none'), { names: [], ignored: [] });
  assert.deepEqual(parsePropagators('none,b3'), { names: [], ignored: [{ value: 'b3', reason: NONE }] });
  assert.deepEqual(parsePropagators('tracecontext,none,xray,foo'), {
    names: [],
    ignored: [
      { value: 'xray', reason: UNSUPPORTED },
      { value: 'foo', reason: UNKNOWN },
      { value: 'tracecontext', reason: NONE },
    ],
  });
});

test('OpenTelemetry names readykit does not implement are ignored as unsupported', () => {
  assert.deepEqual(parsePropagators('jaeger,xray,ottrace'), {
    names: [],
    ignored: [
      { value: 'jaeger', reason: UNSUPPORTED },
      { value: 'xray', reason: UNSUPPORTED },
      { value: 'ottrace', reason: UNSUPPORTED },
    ],
  });
  assert.deepEqual(parsePropagators('tracecontext,jaeger'), {
    names: ['tracecontext'],
    ignored: [{ value: 'jaeger', reason: UNSUPPORTED }],
  });
});

test('anything else is an unknown propagator; names are case-insensitive, as the OTel spec asks', () => {
  assert.deepEqual(parsePropagators('b3,zipkin,b3'), {
    names: ['b3'],
    ignored: [{ value: 'zipkin', reason: UNKNOWN }],
  });
  assert.deepEqual(parsePropagators('B3,TraceContext,XRAY,B3Multi'), {
    names: ['b3', 'tracecontext', 'b3multi'],
    ignored: [{ value: 'XRAY', reason: UNSUPPORTED }],
  });
  assert.deepEqual(parsePropagators('B3,None').names, []);
  assert.deepEqual(parsePropagators('foo,foo').ignored, [{ value: 'foo', reason: UNKNOWN }], 'reported once');
  assert.deepEqual(parsePropagators('b3 multi').ignored, [{ value: 'b3 multi', reason: UNKNOWN }]);
});

test('ignored values are safe to log: no control characters, at most 40 characters', () => {
  const long = parsePropagators(`${'x'.repeat(10 * 1024)},b3`);
  assert.deepEqual(long.names, ['b3']);
  assert.equal(long.ignored.length, 1);
  assert.equal(long.ignored[0]!.value, `${'x'.repeat(40)}…`);

  const hostile = parsePropagators('b3\r\nFAKE LOG LINE,\u001b[31mred\u001b[0m,\u202eevil,a\u0000b');
  assert.deepEqual(
    hostile.ignored.map((i) => i.value),
    ['b3FAKE LOG LINE', '[31mred[0m', 'evil', 'ab'],
  );
  for (const { value, reason } of hostile.ignored) {
    assert.doesNotMatch(value, /\p{C}/u);
    assert.ok(REASONS.includes(reason));
  }

  const emoji = parsePropagators('🙂'.repeat(50)).ignored[0]!.value;
  assert.equal(emoji, `${'🙂'.repeat(40)}…`, 'cut between characters, not inside one');
});

test('property: never throws; names known and unique; ignored entries safe', () => {
  const entry = fc.oneof(
    fc.constantFrom(...KNOWN, 'none', 'jaeger', 'xray', 'ottrace', 'B3', ' b3 ', ''),
    fc.string({ unit: anyChar, maxLength: 60 }),
  );
  const value = fc.oneof(
    fc.array(entry, { maxLength: 8 }).map((entries) => entries.join(',')),
    fc.string({ unit: anyChar, maxLength: 200 }),
  );
  fc.assert(
    fc.property(value, (raw) => {
      const { names, ignored } = parsePropagators(raw);
      assert.equal(new Set(names).size, names.length);
      for (const name of names) assert.ok(KNOWN.includes(name), name);
      for (const { value: shown, reason } of ignored) {
        assert.ok(REASONS.includes(reason), reason);
        assert.doesNotMatch(shown, /\p{C}/u);
        assert.ok([...shown].length <= 41, shown);
        assert.ok(!shown.includes(','), 'one entry, never a piece of the list');
      }
      const entries = raw.split(',').map((e) => e.trim());
      if (entries.includes('none')) assert.deepEqual(names, []);
    }),
    PROPERTY,
  );
});

test('property: a list of known names selects them in first-seen order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...KNOWN), { minLength: 1, maxLength: 10 }),
      fc.constantFrom(',', ' , ', ',\t'),
      (list, sep) => {
        assert.deepEqual(parsePropagators(list.join(sep)), { names: [...new Set(list)], ignored: [] });
      },
    ),
    PROPERTY,
  );
});
