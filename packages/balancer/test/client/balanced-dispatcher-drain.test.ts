import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { fetch } from 'undici';
import { BalancedDispatcher } from '../../src/client/balanced-dispatcher.ts';
import { startTestBackend, until } from '../support/test-backend.ts';
import { backendOf, ORIGIN, sleep, startDispatcher } from './dispatcher-fixture.ts';

const INTERVAL_MS = 100;

test('a backend whose /readyz turns 503 gets no new call within one check interval; its call in flight finishes', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a', 'b'], {
    algorithm: 'round-robin',
    healthCheck: { interval: `${INTERVAL_MS}ms` },
  });
  const [a, b] = backends;
  const held: ServerResponse[] = [];
  a!.handler = (_req, res) => held.push(res);
  // Round-robin: the first call goes to a, which holds it.
  const inFlight = fetch(`${ORIGIN}/slow`, { dispatcher: d });
  await until(() => held.length === 1, 2000, 'a holding a call');
  assert.equal(d.inFlight, 1);

  const reachedA: number[] = [];
  a!.handler = (_req, res) => {
    reachedA.push(performance.now());
    res.end('a');
  };
  const notReadyAnswers: number[] = [];
  a!.server.prependListener('request', (req, res) => {
    if (req.url === '/readyz')
      res.on('finish', () => res.statusCode === 503 && notReadyAnswers.push(performance.now()));
  });
  const drainedAt = performance.now();
  a!.readyStatus = 503;
  // Sequential calls until the dispatcher drained a.
  while (backendOf(d, a!.url).state !== 'draining') {
    assert.ok(performance.now() - drainedAt < 3000, 'a never drained');
    const res = await fetch(`${ORIGIN}/x`, { dispatcher: d });
    assert.equal(res.status, 200);
    await res.text();
  }
  const firstNotReady = notReadyAnswers[0]!;
  // The next check (one interval, jittered by 10 %) answers 503; margin for a busy 2-core machine.
  assert.ok(
    firstNotReady - drainedAt < INTERVAL_MS * 1.1 + 300,
    `the first 503 came ${Math.round(firstNotReady - drainedAt)} ms after the switch`,
  );
  // Drained at the first 503: at most the one call already on its way when it came lands on a.
  const late = reachedA.filter((at) => at > firstNotReady);
  assert.ok(late.length <= 1, `${late.length} calls reached a after its first 503`);
  const seenByB = b!.seen.length;
  for (let i = 0; i < 20; i++) await (await fetch(`${ORIGIN}/x`, { dispatcher: d })).text();
  assert.equal(b!.seen.length, seenByB + 20, 'every new call went to b');

  held[0]!.end('a, finished while draining');
  const answer = await inFlight;
  assert.equal(answer.status, 200);
  assert.equal(await answer.text(), 'a, finished while draining');
  assert.equal(d.inFlight, 0);
});

/** A dispatcher over one backend that never becomes ready (its /readyz answers 503). */
async function overWarmingBackend(t: import('node:test').TestContext) {
  const warming = await startTestBackend('warming');
  warming.readyStatus = 503;
  t.after(() => warming.close());
  const d = new BalancedDispatcher({
    origin: ORIGIN,
    backends: [warming.url],
    healthCheck: { interval: `${INTERVAL_MS}ms` },
  });
  t.after(() => d.close());
  return { warming, d };
}

test('with no ready backend a call fails with RK_ERR_NO_BACKEND, for undici fetch and Node fetch', async (t) => {
  const { warming, d } = await overWarmingBackend(t);
  await sleep(2 * INTERVAL_MS);
  for (const call of [fetch, globalThis.fetch as unknown as typeof fetch]) {
    await assert.rejects(
      call(`${ORIGIN}/x`, { dispatcher: d }),
      (error: Error & { cause?: { code?: string } }) => {
        assert.equal(error.name, 'TypeError');
        assert.equal(error.cause?.code, 'RK_ERR_NO_BACKEND');
        return true;
      },
    );
  }
  assert.equal(warming.seen.length, 0);
  assert.equal(d.inFlight, 0);
});

test('ready() rejects after its timeout when no backend ever becomes ready', async (t) => {
  const { warming, d } = await overWarmingBackend(t);
  const started = performance.now();
  await assert.rejects(d.ready(300), /no backend of http:\/\/inventory\.test became ready within 300 ms/);
  const waited = performance.now() - started;
  assert.ok(waited >= 290 && waited < 1000, `waited ${Math.round(waited)} ms`);

  // It does resolve once the backend turns ready.
  warming.readyStatus = 200;
  await d.ready(2000);
  assert.equal(await (await fetch(`${ORIGIN}/x`, { dispatcher: d })).text(), 'warming');
});

test('a call with no backend fails asynchronously: a retry loop still lets timers run', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  backends[0]!.readyStatus = 503;
  await until(() => backendOf(d, backends[0]!.url).state === 'draining', 2000, 'a draining');
  let timerFired = false;
  setTimeout(() => {
    timerFired = true;
  }, 0);
  let failures = 0;
  while (!timerFired && failures < 10_000) {
    await fetch(`${ORIGIN}/x`, { dispatcher: d }).catch(() => failures++);
  }
  assert.ok(timerFired, `a 0 ms timer fired after ${failures} failed calls`);
  assert.ok(failures < 100, `only a few calls failed before it did: ${failures}`);
});
