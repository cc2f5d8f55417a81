import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isSpanId, isTraceId } from '../src/trace-ids.ts';
import { formatTraceparent, parseTraceparent } from '../src/traceparent.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;
const HEX = '0123456789abcdef';

const hexId = (length: number) =>
  fc
    .string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length })
    .filter((s) => /[1-9a-f]/.test(s));
const traceIdArb = hexId(32);
const spanIdArb = hexId(16);

test('parses version 00 headers from the spec', () => {
  assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE, parentSpanId: SPAN, sampled: true, flags: 1 });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), {
    traceId: TRACE,
    parentSpanId: SPAN,
    sampled: false,
    flags: 0,
  });
});

test('keeps every flag bit and reads sampled from bit 0 only', () => {
  for (const [flags, value, sampled] of [
    ['02', 2, false],
    ['03', 3, true],
    ['09', 9, true],
    ['fe', 254, false],
    ['ff', 255, true],
  ] as const) {
    const parsed = parseTraceparent(`00-${TRACE}-${SPAN}-${flags}`);
    assert.equal(parsed?.flags, value, flags);
    assert.equal(parsed?.sampled, sampled, flags);
  }
});

test('trims optional whitespace (space, tab) around the value', () => {
  for (const padded of [` ${VALID}`, `${VALID} `, `\t${VALID}\t`, ` \t ${VALID} \t `]) {
    assert.equal(parseTraceparent(padded)?.traceId, TRACE, JSON.stringify(padded));
  }
});

test('parses the first four fields of a future version', () => {
  for (const future of [
    `cc-${TRACE}-${SPAN}-01`,
    `cc-${TRACE}-${SPAN}-01-what-the-future-will-be-like`,
    `cc-${TRACE}-${SPAN}-01-`,
    `01-${TRACE}-${SPAN}-00-a`,
    `fe-${TRACE}-${SPAN}-01-x=1;y=2`,
  ]) {
    const parsed = parseTraceparent(future);
    assert.equal(parsed?.traceId, TRACE, future);
    assert.equal(parsed?.parentSpanId, SPAN, future);
  }
  assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-00-later`)?.sampled, false);
});

test('refuses every invalid form', () => {
  const cases: Array<[string, unknown]> = [
    ['absent', undefined],
    ['empty', ''],
    ['whitespace only', '   '],
    ['array (repeated header)', [VALID, VALID]],
    ['array of one', [VALID]],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version ff with future fields', `ff-${TRACE}-${SPAN}-01-x`],
    ['length 54', VALID.slice(0, 54)],
    ['length 56', `${VALID}0`],
    ['version 00 with a dash and more', `${VALID}-`],
    ['version 00 with future fields', `${VALID}-what-the-future-will-be-like`],
    ['future version, char 55 not a dash', `cc-${TRACE}-${SPAN}-01.what-the-future-will-be-like`],
    ['future version, length 54', `cc-${TRACE}-${SPAN}-0`],
    ['future version with a comma', `cc-${TRACE}-${SPAN}-01-a,b`],
    ['future version with a space', `cc-${TRACE}-${SPAN}-01-a b`],
    ['future version with a control char', `cc-${TRACE}-${SPAN}-01-a\u0000`],
    ['uppercase version', `0A-${TRACE}-${SPAN}-01`],
    ['uppercase future version', `CC-${TRACE}-${SPAN}-01`],
    ['uppercase trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['one uppercase hex in trace id', `00-4BF92f3577b34da6a3ce929d0e0e4736-${SPAN}-01`],
    ['uppercase parent id', `00-${TRACE}-${SPAN.toUpperCase()}-01`],
    ['uppercase flags', `00-${TRACE}-${SPAN}-0A`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version .0', `.0-${TRACE}-${SPAN}-01`],
    ['version 0.', `0.-${TRACE}-${SPAN}-01`],
    ['version 0x', `0x-${TRACE}-${SPAN}-01`],
    ['version too long', `000-${TRACE}-${SPAN}-01`],
    ['version too short', `0-${TRACE}-${SPAN}-01`],
    ['trace id too short', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['trace id too long', `00-${TRACE}0-${SPAN}-01`],
    ['parent id too long', `00-${TRACE}-${SPAN}0-01`],
    ['flags too short', `00-${TRACE}-${SPAN}-1`],
    ['flags too long', `00-${TRACE}-${SPAN}-001`],
    ['illegal char in trace id', `00-4bf92f3577b34da6a3ce929d0e0e473g-${SPAN}-01`],
    ['illegal char in parent id', `00-${TRACE}-00f067aa0ba902.7-01`],
    ['illegal flags', `00-${TRACE}-${SPAN}-0.`],
    ['flags .0', `00-${TRACE}-${SPAN}-.0`],
    ['underscore separators', `00_${TRACE}_${SPAN}_01`],
    ['missing separator', `00${TRACE}-${SPAN}-010`],
    ['inner whitespace', `00- ${TRACE.slice(1)}-${SPAN}-01`],
    ['repeated, comma-joined', `${VALID}, ${VALID}`],
    ['repeated, comma-joined without space', `${VALID},${VALID}`],
    ['trailing CR LF', `${VALID}\r\n`],
    ['leading LF', `\n${VALID}`],
    ['NUL inside', `00-${TRACE}-${SPAN}\u000001`],
    ['non-breaking space around', `\u00a0${VALID}`],
    ['unicode hex look-alike', `00-${TRACE.slice(0, 31)}０-${SPAN}-01`],
    ['unicode letter', `00-${TRACE.slice(0, 31)}é-${SPAN}-01`],
    ['10 KB', `00-${'a'.repeat(10 * 1024)}`],
    ['10 KB future version', `cc-${TRACE}-${SPAN}-01-${'a'.repeat(10 * 1024)},x`],
  ];
  for (const [name, value] of cases) {
    assert.equal(parseTraceparent(value as string), undefined, name);
  }
});

test('a future version of 10 KB is parsed: only its first fields matter', () => {
  assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01-${'a'.repeat(10 * 1024)}`)?.traceId, TRACE);
});

test('formatTraceparent writes version 00', () => {
  assert.equal(formatTraceparent(TRACE, SPAN, true), VALID);
  assert.equal(formatTraceparent(TRACE, SPAN, false), `00-${TRACE}-${SPAN}-00`);
});

test('property: format then parse gives the ids and decision back', () => {
  fc.assert(
    fc.property(traceIdArb, spanIdArb, fc.boolean(), (traceId, spanId, sampled) => {
      const header = formatTraceparent(traceId, spanId, sampled);
      assert.equal(header.length, 55);
      assert.deepEqual(parseTraceparent(header), {
        traceId,
        parentSpanId: spanId,
        sampled,
        flags: sampled ? 1 : 0,
      });
    }),
    PROPERTY,
  );
});

test('property: any future version (01-fe) with visible trailing fields is read', () => {
  const version = fc.integer({ min: 1, max: 0xfe }).map((v) => v.toString(16).padStart(2, '0'));
  const visibleNotComma = fc
    .integer({ min: 0x21, max: 0x7e })
    .filter((c) => c !== 0x2c)
    .map((c) => String.fromCharCode(c));
  const tail = fc.string({ unit: visibleNotComma, maxLength: 40 });
  fc.assert(
    fc.property(version, traceIdArb, spanIdArb, fc.nat(255), tail, (v, traceId, spanId, flags, rest) => {
      const f = flags.toString(16).padStart(2, '0');
      const parsed = parseTraceparent(`${v}-${traceId}-${spanId}-${f}-${rest}`);
      assert.deepEqual(parsed, { traceId, parentSpanId: spanId, sampled: (flags & 1) === 1, flags });
    }),
    PROPERTY,
  );
});

test('property: changing any character of a valid header to a non-hex one invalidates it', () => {
  const notLowerHex = fc
    .string({ unit: anyChar, minLength: 1, maxLength: 1 })
    .filter((c) => !HEX.includes(c) && c !== '-');
  fc.assert(
    fc.property(traceIdArb, spanIdArb, fc.nat(54), notLowerHex, (traceId, spanId, at, c) => {
      const header = formatTraceparent(traceId, spanId, true);
      const changed = header.slice(0, at) + c + header.slice(at + 1);
      assert.equal(parseTraceparent(changed), undefined, JSON.stringify(changed));
    }),
    PROPERTY,
  );
});

test('property: never throws, and whatever it returns is valid and hex only', () => {
  const near = fc.string({ unit: fc.constantFrom(...`${HEX}ABCF-  \t,\r\n0`), minLength: 50, maxLength: 60 });
  const mutated = fc
    .tuple(traceIdArb, spanIdArb, fc.nat(60), fc.string({ unit: anyChar, maxLength: 3 }))
    .map(([t, s, at, insert]) => {
      const header = formatTraceparent(t, s, true);
      return header.slice(0, at) + insert + header.slice(at);
    });
  const anything = fc.oneof(
    near,
    mutated,
    fc.string({ unit: anyChar, maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.array(fc.string(), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(anything, (value) => {
      const parsed = parseTraceparent(value);
      if (parsed === undefined) return;
      assert.ok(isTraceId(parsed.traceId), parsed.traceId);
      assert.ok(isSpanId(parsed.parentSpanId), parsed.parentSpanId);
      assert.ok(Number.isInteger(parsed.flags) && parsed.flags >= 0 && parsed.flags <= 255);
      assert.equal(parsed.sampled, (parsed.flags & 1) === 1);
      assert.equal(typeof value, 'string');
    }),
    PROPERTY,
  );
});
