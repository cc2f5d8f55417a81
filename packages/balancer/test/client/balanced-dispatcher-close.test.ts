import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { fetch, request } from 'undici';
import { startTestBackend, until } from '../support/test-backend.ts';
import { ORIGIN, sleep, startDispatcher } from './dispatcher-fixture.ts';
import { RecordingFallback } from './recording-fallback.ts';

test('close() waits for the call in flight, then resolves; calls made while closing and after go to the fallback', async (t) => {
  const elsewhere = await startTestBackend('fallback');
  t.after(() => elsewhere.close());
  const fallback = new RecordingFallback(elsewhere.url);
  t.after(() => fallback.close());
  const { d, backends } = await startDispatcher(t, ['a'], { fallback });
  const a = backends[0]!;
  const held: ServerResponse[] = [];
  a.handler = (_req, res) => held.push(res);
  const inFlight = fetch(`${ORIGIN}/slow`, { dispatcher: d });
  await until(() => held.length === 1, 2000, 'the call to reach a');

  let closed = false;
  const closing = d.close().then(() => {
    closed = true;
  });
  assert.equal(d.close(), d.close(), 'close() twice: the same promise');
  await sleep(150);
  assert.equal(closed, false, 'close() resolved with a call in flight');
  assert.equal(d.inFlight, 1);

  // Observed: from the first instant of close() the logical origin is no longer balanced.
  const during = await fetch(`${ORIGIN}/during`, { dispatcher: d });
  assert.equal(await during.text(), 'fallback');

  held[0]!.end('a, finished');
  const answer = await inFlight;
  assert.equal(await answer.text(), 'a, finished');
  await closing;
  assert.equal(closed, true);
  assert.equal(d.inFlight, 0);
  assert.equal(d.cluster.backends.size, 0, 'backends closed');

  const after = await request(`${ORIGIN}/after`, { dispatcher: d });
  assert.equal(await after.body.text(), 'fallback');
  assert.deepEqual(fallback.origins, [ORIGIN, ORIGIN]);
  assert.equal(a.seen.length, 1, 'a saw only the call made before close()');
});

test('close() with nothing in flight resolves at once, and takes a callback', async (t) => {
  const { d } = await startDispatcher(t, ['a']);
  const started = performance.now();
  await new Promise<void>((resolve) => d.close(resolve));
  assert.ok(performance.now() - started < 1000);
  assert.equal(d.cluster.backends.size, 0);
});

test('destroy() does not wait: a call in flight fails', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  backends[0]!.handler = () => {};
  const pending = fetch(`${ORIGIN}/hang`, { dispatcher: d });
  await until(() => backends[0]!.seen.length === 1, 2000, 'the call to reach a');
  await d.destroy();
  await assert.rejects(pending, TypeError);
  await until(() => d.inFlight === 0, 2000, 'no call in flight');
});
