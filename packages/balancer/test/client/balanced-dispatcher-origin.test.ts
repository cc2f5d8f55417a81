import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch, request } from 'undici';
import { startTestBackend } from '../support/test-backend.ts';
import { ORIGIN, startDispatcher } from './dispatcher-fixture.ts';
import { RecordingFallback } from './recording-fallback.ts';

test('the Host header is the logical origin’s host, port included', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  await (await fetch(`${ORIGIN}/x`, { dispatcher: d })).text();
  assert.equal(backends[0]!.seen.at(-1)?.headers.host, 'inventory.test');

  const { d: withPort, backends: others } = await startDispatcher(t, ['b'], {
    origin: 'http://orders.test:8080',
  });
  const { body } = await request('http://orders.test:8080/y', { dispatcher: withPort });
  assert.equal(await body.text(), 'b');
  assert.equal(others[0]!.seen.at(-1)?.headers.host, 'orders.test:8080');
});

test('a Host header the caller sets is kept', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  const { body } = await request(`${ORIGIN}/x`, {
    dispatcher: d,
    headers: { host: 'tenant-7.inventory.test' },
  });
  await body.text();
  assert.equal(backends[0]!.seen.at(-1)?.headers.host, 'tenant-7.inventory.test');
  await request(`${ORIGIN}/x`, { dispatcher: d, headers: ['Host', 'flat.test'] }).then((r) => r.body.text());
  assert.equal(backends[0]!.seen.at(-1)?.headers.host, 'flat.test');
  // (fetch drops a caller's Host itself, as a forbidden header: only request/dispatch can set one.)
  assert.equal(backends[0]!.seen.length, 2);
});

test('calls to another origin go to the fallback dispatcher, untouched', async (t) => {
  const elsewhere = await startTestBackend('elsewhere');
  t.after(() => elsewhere.close());
  const fallback = new RecordingFallback(elsewhere.url);
  t.after(() => fallback.close());
  const { d, backends } = await startDispatcher(t, ['a'], { fallback });

  const other = await fetch('http://payments.test/pay', { dispatcher: d });
  assert.equal(await other.text(), 'elsewhere');
  // Same host, another port or scheme: another origin.
  const otherPort = await request('http://inventory.test:81/x', { dispatcher: d });
  assert.equal(await otherPort.body.text(), 'elsewhere');
  const mine = await fetch(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(await mine.text(), 'a');

  assert.deepEqual(fallback.origins, ['http://payments.test', 'http://inventory.test:81']);
  assert.equal(backends[0]!.seen.length, 1);
  assert.equal(d.inFlight, 0);
});
