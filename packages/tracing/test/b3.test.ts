import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import { type B3Context, formatB3Multi, formatB3Single, parseB3Multi, parseB3Single } from '../src/b3.ts';
import { isSpanId, isTraceId } from '../src/trace-ids.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const TRACE64 = 'a3ce929d0e0e4736';
const PADDED64 = `0000000000000000${TRACE64}`;
const SPAN = 'e457b5a2e4d86bd1';
const PARENT = '05e3ac9a4f6e3b90';
const HEX = '0123456789abcdef';

const ids = (traceId: string, spanId: string, parentSpanId?: string) => ({ traceId, spanId, parentSpanId });
const samplingOnly = { traceId: undefined, spanId: undefined, parentSpanId: undefined };

test('parseB3Single: every form of the spec', () => {
  const cases: Array<[string, B3Context]> = [
    [`${TRACE}-${SPAN}-1-${PARENT}`, { ...ids(TRACE, SPAN, PARENT), sampled: true, debug: false }],
    [`${TRACE}-${SPAN}-0-${PARENT}`, { ...ids(TRACE, SPAN, PARENT), sampled: false, debug: false }],
    [`${TRACE}-${SPAN}-d-${PARENT}`, { ...ids(TRACE, SPAN, PARENT), sampled: true, debug: true }],
    [`${TRACE}-${SPAN}-1`, { ...ids(TRACE, SPAN), sampled: true, debug: false }],
    [`${TRACE}-${SPAN}-0`, { ...ids(TRACE, SPAN), sampled: false, debug: false }],
    [`${TRACE}-${SPAN}-d`, { ...ids(TRACE, SPAN), sampled: true, debug: true }],
    [`${TRACE}-${SPAN}`, { ...ids(TRACE, SPAN), sampled: undefined, debug: false }],
    [`${TRACE64}-${SPAN}`, { ...ids(PADDED64, SPAN), sampled: undefined, debug: false }],
    [`${TRACE64}-${SPAN}-1-${PARENT}`, { ...ids(PADDED64, SPAN, PARENT), sampled: true, debug: false }],
    [`0000000000000000${TRACE64}-${SPAN}-1`, { ...ids(PADDED64, SPAN), sampled: true, debug: false }],
    ['1', { ...samplingOnly, sampled: true, debug: false }],
    ['0', { ...samplingOnly, sampled: false, debug: false }],
    ['d', { ...samplingOnly, sampled: true, debug: true }],
    [` ${TRACE}-${SPAN}-1\t`, { ...ids(TRACE, SPAN), sampled: true, debug: false }],
    [' 0 ', { ...samplingOnly, sampled: false, debug: false }],
  ];
  for (const [value, expected] of cases) {
    assert.deepEqual(parseB3Single(value), expected, value);
  }
});

test('parseB3Single: refuses every invalid form', () => {
  const cases: Array<[string, unknown]> = [
    ['absent', undefined],
    ['empty', ''],
    ['array', [`${TRACE}-${SPAN}-1`]],
    ['sampling state 2', '2'],
    ['sampling state true', 'true'],
    ['sampling state 00', '00'],
    ['sampling state D', 'D'],
    ['trace id only', TRACE],
    ['trace id and dash', `${TRACE}-`],
    ['trace id of 15', `${TRACE64.slice(1)}-${SPAN}`],
    ['trace id of 17', `0${TRACE64}-${SPAN}`],
    ['trace id of 31', `${TRACE.slice(1)}-${SPAN}`],
    ['trace id of 33', `0${TRACE}-${SPAN}`],
    ['span id of 15', `${TRACE}-${SPAN.slice(1)}`],
    ['span id of 17', `${TRACE}-${SPAN}0`],
    ['uppercase trace id', `${TRACE.toUpperCase()}-${SPAN}`],
    ['uppercase span id', `${TRACE}-${SPAN.toUpperCase()}`],
    ['uppercase parent id', `${TRACE}-${SPAN}-1-${PARENT.toUpperCase()}`],
    ['all-zero trace id', `${'0'.repeat(32)}-${SPAN}`],
    ['all-zero 64-bit trace id', `${'0'.repeat(16)}-${SPAN}`],
    ['all-zero span id', `${TRACE}-${'0'.repeat(16)}`],
    ['all-zero parent id', `${TRACE}-${SPAN}-1-${'0'.repeat(16)}`],
    ['parent without sampling state', `${TRACE}-${SPAN}-${PARENT}`],
    ['sampling state 2 with ids', `${TRACE}-${SPAN}-2`],
    ['sampling state true with ids', `${TRACE}-${SPAN}-true`],
    ['dangling dash', `${TRACE}-${SPAN}-`],
    ['dangling dash after sampling', `${TRACE}-${SPAN}-1-`],
    ['parent of 15', `${TRACE}-${SPAN}-1-${PARENT.slice(1)}`],
    ['parent of 17', `${TRACE}-${SPAN}-1-${PARENT}0`],
    ['a fifth field', `${TRACE}-${SPAN}-1-${PARENT}-x`],
    ['double dash', `${TRACE}--${SPAN}`],
    ['underscore', `${TRACE}_${SPAN}`],
    ['comma-joined repeat', `${TRACE}-${SPAN}-1, ${TRACE}-${SPAN}-1`],
    ['comma-joined sampling', '1,0'],
    ['CR LF', `${TRACE}-${SPAN}-1\r\n`],
    ['NUL', `${TRACE}-${SPAN}-1\u0000`],
    ['unicode', `${TRACE}-${SPAN.slice(0, 15)}é`],
    ['10 KB', `${TRACE}-${'a'.repeat(10 * 1024)}`],
  ];
  for (const [name, value] of cases) {
    assert.equal(parseB3Single(value as string), undefined, name);
  }
});

test('parseB3Multi: ids, parent, sampling and debug', () => {
  const cases: Array<[IncomingHttpHeaders, B3Context]> = [
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' },
      { ...ids(TRACE, SPAN), sampled: true, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '0' },
      { ...ids(TRACE, SPAN, PARENT), sampled: false, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE64, 'x-b3-spanid': SPAN },
      { ...ids(PADDED64, SPAN), sampled: undefined, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'true' },
      { ...ids(TRACE, SPAN), sampled: true, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'false' },
      { ...ids(TRACE, SPAN), sampled: false, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' },
      { ...ids(TRACE, SPAN), sampled: true, debug: true },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1', 'x-b3-sampled': '0' },
      { ...ids(TRACE, SPAN), sampled: true, debug: true },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '0' },
      { ...ids(TRACE, SPAN), sampled: undefined, debug: false },
    ],
    [
      { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': 'garbage' },
      { ...ids(TRACE, SPAN), sampled: undefined, debug: false },
    ],
    [{ 'x-b3-sampled': '0' }, { ...samplingOnly, sampled: false, debug: false }],
    [{ 'x-b3-sampled': 'true' }, { ...samplingOnly, sampled: true, debug: false }],
    [{ 'x-b3-flags': '1' }, { ...samplingOnly, sampled: true, debug: true }],
    [
      { 'x-b3-traceid': ` ${TRACE}`, 'x-b3-spanid': `${SPAN}\t`, 'x-b3-sampled': ' 1 ', host: 'example' },
      { ...ids(TRACE, SPAN), sampled: true, debug: false },
    ],
  ];
  for (const [headers, expected] of cases) {
    assert.deepEqual(parseB3Multi(headers), expected, JSON.stringify(headers));
  }
});

test('parseB3Multi: nothing when no B3 header is present', () => {
  assert.equal(parseB3Multi({}), undefined);
  assert.equal(parseB3Multi({ host: 'example', traceparent: `00-${TRACE}-${SPAN}-01` }), undefined);
  assert.equal(parseB3Multi({ 'x-b3-flags': '0' }), undefined, 'flags other than 1 are ignored');
  assert.equal(
    parseB3Multi({ 'X-B3-TraceId': TRACE, 'X-B3-SpanId': SPAN }),
    undefined,
    'names are lowercase',
  );
});

test('parseB3Multi: refuses invalid sets', () => {
  const cases: Array<[string, Record<string, string | string[] | undefined>]> = [
    ['trace id without span id', { 'x-b3-traceid': TRACE }],
    ['span id without trace id', { 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }],
    ['parent without ids', { 'x-b3-parentspanid': PARENT }],
    ['parent and sampling without ids', { 'x-b3-parentspanid': PARENT, 'x-b3-sampled': '1' }],
    ['uppercase trace id', { 'x-b3-traceid': TRACE.toUpperCase(), 'x-b3-spanid': SPAN }],
    ['trace id of 15', { 'x-b3-traceid': TRACE64.slice(1), 'x-b3-spanid': SPAN }],
    ['trace id of 20', { 'x-b3-traceid': `${TRACE64}abcd`, 'x-b3-spanid': SPAN }],
    ['all-zero trace id', { 'x-b3-traceid': '0'.repeat(32), 'x-b3-spanid': SPAN }],
    ['all-zero span id', { 'x-b3-traceid': TRACE, 'x-b3-spanid': '0'.repeat(16) }],
    ['span id of 32', { 'x-b3-traceid': TRACE, 'x-b3-spanid': TRACE }],
    ['invalid parent', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': 'xyz' }],
    ['empty parent', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': '' }],
    ['sampled yes', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'yes' }],
    ['sampled 2', { 'x-b3-sampled': '2' }],
    ['sampled d', { 'x-b3-sampled': 'd' }],
    ['sampled TRUE', { 'x-b3-sampled': 'TRUE' }],
    ['sampled repeated', { 'x-b3-sampled': '1, 1' }],
    ['sampled array', { 'x-b3-sampled': ['1', '1'] }],
    ['trace id array', { 'x-b3-traceid': [TRACE], 'x-b3-spanid': SPAN }],
    ['trace id repeated', { 'x-b3-traceid': `${TRACE}, ${TRACE}`, 'x-b3-spanid': SPAN }],
    ['CR LF in span id', { 'x-b3-traceid': TRACE, 'x-b3-spanid': `${SPAN}\r\n` }],
    ['unicode span id', { 'x-b3-traceid': TRACE, 'x-b3-spanid': `${SPAN.slice(0, 15)}é` }],
    ['10 KB trace id', { 'x-b3-traceid': 'a'.repeat(10 * 1024), 'x-b3-spanid': SPAN }],
  ];
  for (const [name, headers] of cases) {
    assert.equal(parseB3Multi(headers), undefined, name);
  }
});

test('formatB3Single and formatB3Multi', () => {
  assert.equal(formatB3Single(TRACE, SPAN, true), `${TRACE}-${SPAN}-1`);
  assert.equal(formatB3Single(TRACE, SPAN, false, PARENT), `${TRACE}-${SPAN}-0-${PARENT}`);
  assert.deepEqual(formatB3Multi(TRACE, SPAN, true), [
    ['x-b3-traceid', TRACE],
    ['x-b3-spanid', SPAN],
    ['x-b3-sampled', '1'],
  ]);
  assert.deepEqual(formatB3Multi(TRACE, SPAN, false, PARENT), [
    ['x-b3-traceid', TRACE],
    ['x-b3-spanid', SPAN],
    ['x-b3-parentspanid', PARENT],
    ['x-b3-sampled', '0'],
  ]);
});

const hexId = (length: number) =>
  fc
    .string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length })
    .filter((s) => /[1-9a-f]/.test(s));
const traceIdArb = fc.oneof(hexId(32), hexId(16));
const spanIdArb = hexId(16);
const padded = (traceId: string) => traceId.padStart(32, '0');

test('property: formatB3Single then parseB3Single round-trips', () => {
  fc.assert(
    fc.property(
      traceIdArb,
      spanIdArb,
      fc.boolean(),
      fc.option(spanIdArb, { nil: undefined }),
      (traceId, spanId, sampled, parentSpanId) => {
        assert.deepEqual(parseB3Single(formatB3Single(traceId, spanId, sampled, parentSpanId)), {
          traceId: padded(traceId),
          spanId,
          parentSpanId,
          sampled,
          debug: false,
        });
      },
    ),
    PROPERTY,
  );
});

test('property: formatB3Multi then parseB3Multi round-trips', () => {
  fc.assert(
    fc.property(
      traceIdArb,
      spanIdArb,
      fc.boolean(),
      fc.option(spanIdArb, { nil: undefined }),
      (traceId, spanId, sampled, parentSpanId) => {
        const headers = Object.fromEntries(formatB3Multi(traceId, spanId, sampled, parentSpanId));
        assert.deepEqual(parseB3Multi(headers), {
          traceId: padded(traceId),
          spanId,
          parentSpanId,
          sampled,
          debug: false,
        });
      },
    ),
    PROPERTY,
  );
});

function assertSafe(context: B3Context | undefined): void {
  if (context === undefined) return;
  assert.equal(context.traceId === undefined, context.spanId === undefined, 'ids come in pairs');
  if (context.traceId !== undefined) assert.ok(isTraceId(context.traceId), context.traceId);
  if (context.spanId !== undefined) assert.ok(isSpanId(context.spanId), context.spanId);
  if (context.parentSpanId !== undefined) {
    assert.ok(isSpanId(context.parentSpanId), context.parentSpanId);
    assert.notEqual(context.traceId, undefined, 'a parent only comes with ids');
  }
  if (context.debug) assert.equal(context.sampled, true, 'debug implies sampled');
}

test('property: parseB3Single never throws and returns only valid ids', () => {
  const near = fc.string({ unit: fc.constantFrom(...`${HEX}-01dD ,\t\r\nA`), maxLength: 72 });
  const mutated = fc
    .tuple(traceIdArb, spanIdArb, fc.nat(70), fc.string({ unit: anyChar, maxLength: 2 }))
    .map(([t, s, at, insert]) => {
      const header = formatB3Single(t, s, true, s);
      return header.slice(0, at) + insert + header.slice(at + 1);
    });
  fc.assert(
    fc.property(fc.oneof(near, mutated, fc.string({ unit: anyChar, maxLength: 80 })), (value) => {
      assertSafe(parseB3Single(value));
    }),
    PROPERTY,
  );
});

test('property: parseB3Multi never throws and returns only valid ids', () => {
  const names = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'];
  const headerValue = fc.oneof(
    traceIdArb,
    spanIdArb,
    fc.constantFrom('0', '1', 'd', 'true', 'false', ''),
    fc.string({ unit: anyChar, maxLength: 40 }),
    fc.array(fc.oneof(spanIdArb, fc.string()), { maxLength: 2 }),
  );
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...names), headerValue), (headers) => {
      const context = parseB3Multi(headers);
      assertSafe(context);
      if (Object.keys(headers).length === 0) assert.equal(context, undefined);
    }),
    PROPERTY,
  );
});
