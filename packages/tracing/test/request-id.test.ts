import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isRequestId, newRequestId } from '../src/request-id.ts';
import { RandomIds } from '../src/trace-ids.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:/+=@-';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('accepts the ids services and proxies send', () => {
  for (const valid of [
    'f47ac10b-58cc-4372-a567-0e02b2c3d479',
    'F47AC10B-58CC-4372-A567-0E02B2C3D479',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    'dGVzdCByZXF1ZXN0IGlk',
    'dGVzdA==',
    'a+b/c=',
    'a-b_c',
    '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    'Root=1-5759e988-bd862e3fe1be46a994272793',
    '1-67891233-abcdef012345678912345678',
    'req:abc@host~1.2',
    '1',
    'x'.repeat(128),
  ]) {
    assert.equal(isRequestId(valid), true, valid);
  }
});

test('refuses anything that could split a header or a log line', () => {
  const cases: Array<[string, unknown]> = [
    ['absent', undefined],
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['10 KB', 'x'.repeat(10 * 1024)],
    ['leading space', ' abc'],
    ['trailing space', 'abc '],
    ['inner space', 'a b'],
    ['tab', 'a\tb'],
    ['comma (repeated header)', 'abc, def'],
    ['comma without space', 'abc,def'],
    ['double quote', 'a"b'],
    ['single quote', "a'b"],
    ['semicolon', 'Root=1-5759e988;Parent=53995c3f42cd8ad8'],
    ['angle brackets', '<script>'],
    ['backslash', 'a\\b'],
    ['CR LF injection', 'abc\r\nSet-Cookie: x=1'],
    ['LF at the end', 'abc\n'],
    ['CR at the end', 'abc\r'],
    ['NUL', 'a\u0000b'],
    ['escape sequence', 'a\u001b[31m'],
    ['DEL', 'a\u007f'],
    ['non-ASCII letter', 'é'],
    ['unicode line separator', 'a\u2028b'],
    ['emoji', '🙂'],
    ['array', ['abc']],
    ['array of two', ['abc', 'def']],
  ];
  for (const [name, value] of cases) {
    assert.equal(isRequestId(value as string), false, name);
  }
});

test('newRequestId: a random UUID that isRequestId accepts', () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const id = newRequestId(ids);
    assert.match(id, UUID_V4);
    assert.equal(isRequestId(id), true);
    seen.add(id);
  }
  assert.equal(seen.size, 100);
});

test('property: accepted exactly when 1-128 characters of the alphabet', () => {
  const fromAlphabet = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 0, maxLength: 140 });
  const mixed = fc.string({ unit: fc.constantFrom(...`${ALPHABET} ,;"'\r\n\u0000é`), maxLength: 140 });
  fc.assert(
    fc.property(fc.oneof(fromAlphabet, mixed, fc.string({ unit: anyChar, maxLength: 140 })), (value) => {
      const expected =
        value.length >= 1 && value.length <= 128 && [...value].every((c) => ALPHABET.includes(c));
      assert.equal(isRequestId(value), expected, JSON.stringify(value));
    }),
    PROPERTY,
  );
});
