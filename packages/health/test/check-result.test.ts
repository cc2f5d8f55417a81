import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reasonOf } from '../src/check-result.ts';

test('reasons are one short line, never a stack', () => {
  const error = new Error('connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect');
  assert.equal(reasonOf(error), 'connect ECONNREFUSED 127.0.0.1:5432');
  const coded = Object.assign(new Error('pool exhausted'), { code: 'E_POOL' });
  assert.equal(reasonOf(coded), 'E_POOL: pool exhausted');
  assert.equal(
    reasonOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    'connect ECONNREFUSED',
  );
  assert.equal(reasonOf(new TypeError('')), 'TypeError');
  assert.equal(reasonOf('plain string'), 'plain string');
  assert.equal(reasonOf({ weird: true }), 'check failed');
  assert.equal(reasonOf(undefined), 'check failed');
});

test('control characters and newlines are removed, length capped', () => {
  assert.equal(reasonOf(new Error('a\u0000b\u001b[31mc\u2028d')), 'a b [31mc d');
  assert.equal(reasonOf('\r\n\t'), 'check failed');
  const long = reasonOf(new Error('x'.repeat(1000)));
  assert.equal(long.length, 120);
  assert.ok(long.endsWith('…'));
});
