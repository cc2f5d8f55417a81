import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { fetch, request } from 'undici';
import { until } from '../support/test-backend.ts';
import { backendOf, ORIGIN, startDispatcher } from './dispatcher-fixture.ts';

/** Streams a chunk every 20 ms for up to 5 s; records when the client went away before the end. */
function slowStream(closedEarly: boolean[]) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk ${sent++}\n`);
      if (sent === 250) res.end();
    }, 20);
    res.on('close', () => {
      clearInterval(timer);
      closedEarly.push(!res.writableFinished);
    });
  };
}

const FETCHES = [
  ['undici fetch', fetch],
  ["Node's fetch", globalThis.fetch as unknown as typeof fetch],
] as const;

for (const [which, call] of FETCHES) {
  test(`${which}: aborting mid-response rejects the body read with AbortError, closes the backend’s request and frees the call`, async (t) => {
    const { d, backends } = await startDispatcher(t, ['a']);
    const a = backends[0]!;
    const closedEarly: boolean[] = [];
    a.handler = slowStream(closedEarly);
    const controller = new AbortController();
    const res = await call(`${ORIGIN}/stream`, { dispatcher: d, signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value!).toString(), /^chunk 0/);
    assert.equal(d.inFlight, 1);
    controller.abort();
    await assert.rejects(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
      { name: 'AbortError' },
    );
    await until(() => closedEarly.length === 1, 2000, 'the backend to see the close');
    assert.deepEqual(closedEarly, [true]);
    await until(() => d.inFlight === 0, 2000, 'no call in flight');
    assert.equal(backendOf(d, a.url).inFlight, 0);
    // The dispatcher goes on: the next call is answered.
    a.handler = (_req, r) => r.end('after');
    assert.equal(await (await call(`${ORIGIN}/x`, { dispatcher: d })).text(), 'after');
  });
}

test('aborting before the response starts rejects the fetch itself with AbortError', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  const a = backends[0]!;
  const closed: boolean[] = [];
  // Never answers: the call waits for headers until the caller gives up.
  a.handler = (req) => req.on('close', () => closed.push(true));
  const controller = new AbortController();
  const pending = fetch(`${ORIGIN}/hang`, { dispatcher: d, signal: controller.signal });
  await until(() => a.seen.length === 1, 2000, 'the call to reach the backend');
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  await until(() => closed.length === 1, 2000, 'the backend to see the close');
  await until(() => d.inFlight === 0, 2000, 'no call in flight');
});

test('undici.request with a signal: aborting mid-body destroys the body stream and frees the call', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  const closedEarly: boolean[] = [];
  backends[0]!.handler = slowStream(closedEarly);
  const controller = new AbortController();
  const { body } = await request(`${ORIGIN}/stream`, { dispatcher: d, signal: controller.signal });
  const reading = (async () => {
    for await (const chunk of body) if (String(chunk).includes('chunk 2')) controller.abort();
  })();
  await assert.rejects(reading, { name: 'AbortError' });
  await until(() => closedEarly.length === 1, 2000, 'the backend to see the close');
  assert.deepEqual(closedEarly, [true]);
  await until(() => d.inFlight === 0, 2000, 'no call in flight');
});
