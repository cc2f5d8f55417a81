import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  formatGrpcTimeout,
  formatMilliseconds,
  parseGrpcTimeout,
  parseMilliseconds,
} from '../src/deadline-headers.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const GRPC_TIMEOUT = /^[0-9]{1,8}[HMSmun]$/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

test('parseGrpcTimeout: every unit', () => {
  const cases: Array<[string, number]> = [
    ['1H', 3_600_000],
    ['2M', 120_000],
    ['3S', 3000],
    ['100m', 100],
    ['1500u', 1.5],
    ['2500000n', 2.5],
    ['1u', 0.001],
    ['1n', 0.000001],
    ['0m', 0],
    ['0H', 0],
    ['99999999m', 99_999_999],
    ['99999999H', 99_999_999 * 3_600_000],
    ['00000001S', 1000],
    [' 10m', 10],
    ['10m\t', 10],
  ];
  for (const [value, ms] of cases) {
    assert.equal(parseGrpcTimeout(value), ms, value);
  }
});

test('parseGrpcTimeout: refuses everything else', () => {
  const cases: Array<[string, unknown]> = [
    ['absent', undefined],
    ['empty', ''],
    ['unit only', 'm'],
    ['no unit', '100'],
    ['9 digits', '123456789m'],
    ['9 digits of zeros', '000000000m'],
    ['minus sign', '-1m'],
    ['plus sign', '+1m'],
    ['inner space', '1 m'],
    ['decimal point', '1.5m'],
    ['exponent', '1e3m'],
    ['two units', '1ms'],
    ['unit first', 'm1'],
    ['lowercase hour', '1h'],
    ['lowercase second', '1s'],
    ['uppercase micro', '1U'],
    ['uppercase nano', '1N'],
    ['unknown unit', '1x'],
    ['array', ['1m']],
    ['repeated, comma-joined', '1m, 2m'],
    ['fullwidth digit', '１m'],
    ['arabic-indic digit', '١m'],
    ['CR LF', '1m\r\n'],
    ['leading LF', '\n1m'],
    ['NUL', '1\u0000m'],
    ['10 KB', `${'1'.repeat(10 * 1024)}m`],
  ];
  for (const [name, value] of cases) {
    assert.equal(parseGrpcTimeout(value as string), undefined, name);
  }
});

test('parseMilliseconds: 1-15 ASCII digits', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['1500', 1500],
    ['007', 7],
    ['999999999999999', 999_999_999_999_999],
    [' 42\t', 42],
  ];
  for (const [value, ms] of cases) {
    assert.equal(parseMilliseconds(value), ms, value);
  }
  const invalid: Array<[string, unknown]> = [
    ['absent', undefined],
    ['empty', ''],
    ['whitespace', ' '],
    ['16 digits', '1000000000000000'],
    ['minus sign', '-1'],
    ['plus sign', '+1'],
    ['decimal point', '1.5'],
    ['trailing point', '1.'],
    ['exponent', '1e3'],
    ['inner space', '1 000'],
    ['hex', '0x10'],
    ['unit', '10ms'],
    ['repeated, comma-joined', '100, 200'],
    ['array', ['100']],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['arabic-indic digits', '١٢'],
    ['CR LF', '100\r\n'],
    ['10 KB', '1'.repeat(10 * 1024)],
  ];
  for (const [name, value] of invalid) {
    assert.equal(parseMilliseconds(value as string), undefined, name);
  }
});

test('formatMilliseconds: whole milliseconds, rounded down, never negative', () => {
  const cases: Array<[number, string]> = [
    [1500, '1500'],
    [1.9, '1'],
    [0.4, '0'],
    [0, '0'],
    [-0, '0'],
    [-5, '0'],
    [Number.NaN, '0'],
    [999_999_999_999_999, '999999999999999'],
    [1e20, '999999999999999'],
    [Number.POSITIVE_INFINITY, '999999999999999'],
    [Number.NEGATIVE_INFINITY, '0'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatMilliseconds(ms), text, String(ms));
  }
});

test('formatGrpcTimeout: m for whole ms, u below, S/M/H when too large, floored', () => {
  const cases: Array<[number, string]> = [
    [100, '100m'],
    [1000, '1000m'],
    [1, '1m'],
    [1.5, '1500u'],
    [1.0000001, '1m'],
    [0.0015, '1u'],
    [0.0004, '0m'],
    [99_999.9995, '99999999u'],
    [100_000.5, '100000m'],
    [99_999_999, '99999999m'],
    [99_999_999.9, '99999999m'],
    [100_000_000, '100000S'],
    [100_000_999, '100000S'],
    [1e11, '1666666M'],
    [6e12, '1666666H'],
    [3.6e14, '99999999H'],
    [Number.MAX_VALUE, '99999999H'],
    [Number.POSITIVE_INFINITY, '99999999H'],
    [0, '0m'],
    [-1, '0m'],
    [Number.NaN, '0m'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatGrpcTimeout(ms), text, String(ms));
  }
});

const budget = fc.oneof(
  fc.integer({ min: 0, max: 200_000_000 }),
  fc.double({ min: 0, max: 200_000, noNaN: true }),
  fc.double({ min: 0, max: 1e16, noNaN: true }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  // Around the unit boundaries: 8 digits of u, of m, of S.
  fc.double({ min: 99_999.99, max: 100_000.01, noNaN: true }),
  fc.double({ min: 99_999_990, max: 100_000_010, noNaN: true }),
  fc.double({ min: 99_999_990_000, max: 100_000_010_000, noNaN: true }),
);

test('property: formatGrpcTimeout never grows the budget and loses less than one unit', () => {
  fc.assert(
    fc.property(budget, (ms) => {
      const text = formatGrpcTimeout(ms);
      assert.match(text, GRPC_TIMEOUT);
      const back = parseGrpcTimeout(text);
      assert.notEqual(back, undefined, text);
      assert.ok(back! <= ms, `${text} is more than ${ms} ms`);
      const unit = UNIT_MS[text.slice(-1)]!;
      // Floored in the unit chosen: within one unit (or at the cap).
      if (ms < 99_999_999 * 3_600_000) assert.ok(ms - back! < unit, `${ms} ms became ${text}`);
      if (ms < 100_000_000) assert.ok(ms - back! < 1, `${ms} ms became ${text}`);
      if (Number.isInteger(ms) && ms <= 99_999_999) assert.equal(text, `${ms}m`);
      if (!Number.isInteger(ms) && ms < 100_000) assert.ok(ms - back! < 0.001, `${ms} ms became ${text}`);
    }),
    PROPERTY,
  );
});

test('property: formatMilliseconds then parseMilliseconds gives the floor', () => {
  fc.assert(
    fc.property(fc.oneof(budget, fc.double({ noNaN: true })), (ms) => {
      const back = parseMilliseconds(formatMilliseconds(ms));
      assert.notEqual(back, undefined);
      assert.ok(Number.isInteger(back));
      if (ms <= 0) assert.equal(back, 0);
      else if (ms < 999_999_999_999_999) assert.equal(back, Math.floor(ms));
      else assert.equal(back, 999_999_999_999_999);
    }),
    PROPERTY,
  );
});

test('property: parseGrpcTimeout reads every well-formed value exactly', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 99_999_999 }),
      fc.constantFrom('H', 'M', 'S', 'm', 'u', 'n'),
      (n, unit) => {
        const ms = parseGrpcTimeout(`${n}${unit}`);
        if (unit === 'u') assert.equal(ms, n / 1000);
        else if (unit === 'n') assert.equal(ms, n / 1_000_000);
        else assert.equal(ms, n * UNIT_MS[unit]!);
      },
    ),
    PROPERTY,
  );
});

test('property: the parsers never throw and return a finite budget or nothing', () => {
  const near = fc.string({ unit: fc.constantFrom(...'0123456789HMSmunhs+-. \t,\r\n'), maxLength: 20 });
  const anything = fc.oneof(
    near,
    fc.string({ unit: anyChar, maxLength: 40 }),
    fc.array(near, { maxLength: 2 }),
  );
  fc.assert(
    fc.property(anything, (value) => {
      for (const ms of [parseGrpcTimeout(value), parseMilliseconds(value)]) {
        if (ms === undefined) continue;
        assert.ok(Number.isFinite(ms) && ms >= 0, String(ms));
        assert.equal(typeof value, 'string');
      }
      const grpc = parseGrpcTimeout(value);
      if (grpc !== undefined) assert.match((value as string).trim(), GRPC_TIMEOUT);
      const plain = parseMilliseconds(value);
      if (plain !== undefined) assert.match((value as string).trim(), /^[0-9]{1,15}$/);
    }),
    PROPERTY,
  );
});
