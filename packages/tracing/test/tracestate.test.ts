import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sanitizeTracestate } from '../src/tracestate.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));

const members = (count: number, make = (i: number) => `k${i}=v${i}`) =>
  Array.from({ length: count }, (_, i) => make(i)).join(',');

test('forwards valid lists unchanged', () => {
  for (const valid of [
    'rojo=00f067aa0ba902b7',
    'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    'congo=BleGNlZWRzIHRohbCBwbGVhc3VyZS4,rojo=00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01',
    'a=b',
    'a_b-c*d/e9=1',
    'foo@bar=1',
    '0tenant@sys=x',
    'tenant_1-*/@s-*/_1=x',
    'a=1, b=2',
    'a=1 ,\tb=2',
    'a=1,,b=2',
    'a=1, ,b=2',
    ',a=1,',
    ' \t a=1 \t ',
    'a= leading spaces are part of the value',
    'a=!"#$%&\'()*+-./:;<>?@[\\]^_`{|}~',
    'a=1,a@b=2,b@a=3',
    `${'k'.repeat(256)}=v`,
    `${'t'.repeat(241)}@${'s'.repeat(14)}=v`,
    `a=${'v'.repeat(256)}`,
    members(32),
  ]) {
    assert.equal(sanitizeTracestate(valid), valid, valid.slice(0, 80));
  }
});

test('a 512-character list is forwarded, 513 is dropped', () => {
  // 32 members of 15 characters plus 31 commas: 511; pad the last value to reach 512.
  const list = members(32, (i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(11)}`);
  assert.equal(list.length, 511);
  assert.equal(sanitizeTracestate(`${list}v`), `${list}v`);
  assert.equal(sanitizeTracestate(`${list}vv`), undefined);
});

test('repeated header lines given as an array are joined with commas', () => {
  assert.equal(sanitizeTracestate(['a=1', 'b=2']), 'a=1,b=2');
  assert.equal(sanitizeTracestate(['a=1', '']), 'a=1,');
  assert.equal(sanitizeTracestate(['a=1', 'a=2']), undefined, 'duplicate across lines');
  assert.equal(sanitizeTracestate(['a=1', 'B=2']), undefined);
  assert.equal(sanitizeTracestate(['a=1', 2 as unknown as string]), undefined);
});

test('a list without any member has nothing to forward', () => {
  for (const empty of [undefined, '', ' ', '\t', ',', ' , ,\t,', []]) {
    assert.equal(sanitizeTracestate(empty), undefined, JSON.stringify(empty));
  }
});

test('drops the whole header for any invalid member', () => {
  const cases: Array<[string, string]> = [
    ['uppercase key', 'A=1'],
    ['uppercase in key', 'aB=1'],
    ['simple key starting with a digit', '1a=1'],
    ['key starting with _', '_a=1'],
    ['no equals sign', 'a'],
    ['empty value', 'a='],
    ['whitespace value', 'a=  '],
    ['empty key', '=1'],
    ['equals in value', 'a=1=2'],
    ['second member without value', 'a=1,b'],
    ['space before equals', 'a =1'],
    ['space inside key', 'a b=1'],
    ['dot in key', 'a.b=1'],
    ['key of 257 characters', `${'k'.repeat(257)}=v`],
    ['tenant id of 242 characters', `${'t'.repeat(242)}@s=v`],
    ['system id of 15 characters', `t@${'s'.repeat(15)}=v`],
    ['system id starting with a digit', 'a@1b=x'],
    ['empty system id', 'a@=x'],
    ['empty tenant id', '@a=x'],
    ['two at signs', 'a@b@c=x'],
    ['value of 257 characters', `a=${'v'.repeat(257)}`],
    ['33 members', members(33)],
    ['duplicate keys', 'foo=1,foo=1'],
    ['duplicate keys, apart', 'foo=1,bar=2,foo=3'],
    ['duplicate multi-tenant keys', 'a@b=1,c=2,a@b=3'],
    ['tab in value', 'a=b\tc'],
    ['DEL in value', 'a=b\u007f'],
    ['NUL in value', 'a=b\u0000'],
    ['CR LF', 'a=1\r\nb=2'],
    ['LF at the end', 'a=1\n'],
    ['unicode in value', 'a=é'],
    ['unicode in key', 'é=1'],
    ['emoji', 'a=🙂'],
    ['10 KB', `a=${'x'.repeat(10 * 1024)}`],
    ['10 KB of commas', ','.repeat(10 * 1024)],
  ];
  for (const [name, value] of cases) {
    assert.equal(sanitizeTracestate(value), undefined, name);
  }
});

const keyChars = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
const simpleKey = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({ unit: fc.constantFrom(...keyChars), maxLength: 12 }),
  )
  .map(([first, rest]) => first + rest);
const tenantKey = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
    fc.string({ unit: fc.constantFrom(...keyChars), maxLength: 8 }),
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({ unit: fc.constantFrom(...keyChars), maxLength: 13 }),
  )
  .map(([first, tenant, systemFirst, system]) => `${first + tenant}@${systemFirst}${system}`);
const valueChar = fc
  .integer({ min: 0x20, max: 0x7e })
  .filter((c) => c !== 0x2c && c !== 0x3d)
  .map((c) => String.fromCharCode(c));
const tracestateValue = fc
  .string({ unit: valueChar, minLength: 1, maxLength: 30 })
  .filter((v) => !v.endsWith(' '));
const separator = fc.constantFrom(',', ', ', ' ,', ',\t', ',,', ', ,');
const validList = fc
  .uniqueArray(fc.tuple(fc.oneof(simpleKey, tenantKey), tracestateValue), {
    minLength: 1,
    maxLength: 32,
    selector: ([key]) => key,
  })
  .chain((entries) =>
    fc
      .array(separator, { minLength: entries.length, maxLength: entries.length })
      .map((seps) => entries.map(([k, v], i) => `${i === 0 ? '' : seps[i]}${k}=${v}`).join('')),
  )
  .filter((list) => list.length <= 512);

test('property: generated valid lists are forwarded unchanged', () => {
  fc.assert(
    fc.property(validList, (list) => {
      assert.equal(sanitizeTracestate(list), list);
    }),
    PROPERTY,
  );
});

test('property: a control or non-ASCII character anywhere drops the header', () => {
  const bad = fc.oneof(
    fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x09),
    fc.constant(0x7f),
    fc.integer({ min: 0x80, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff),
  );
  fc.assert(
    fc.property(validList, fc.nat(), bad, (list, at, c) => {
      const i = at % (list.length + 1);
      const changed = list.slice(0, i) + String.fromCodePoint(c) + list.slice(i);
      assert.equal(sanitizeTracestate(changed), undefined, JSON.stringify(changed));
    }),
    PROPERTY,
  );
});

test('property: never throws; returns either nothing or the input, printable ASCII only', () => {
  const near = fc.string({ unit: fc.constantFrom(...'ab0@=,  \t-*/_Z\r\n~é'), maxLength: 60 });
  const anything = fc.oneof(
    near,
    validList,
    fc.string({ unit: anyChar, maxLength: 80 }),
    fc.array(fc.oneof(validList, fc.string()), { maxLength: 3 }),
  );
  fc.assert(
    fc.property(anything, (value) => {
      const result = sanitizeTracestate(value);
      if (result === undefined) return;
      assert.equal(result, typeof value === 'string' ? value : value.join(','));
      assert.match(result, /^[\t\x20-\x7e]*$/);
      assert.ok(result.length <= 512);
    }),
    PROPERTY,
  );
});
