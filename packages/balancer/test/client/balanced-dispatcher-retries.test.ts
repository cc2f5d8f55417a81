import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { fetch, request } from 'undici';
import { backendOf, type DispatcherSetup, ORIGIN, startDispatcher } from './dispatcher-fixture.ts';

/**
 * Backends a and b, round-robin so a fresh dispatcher's first call goes to a; checks far apart
 * so a stays ready for the balancer for a while after its listener is gone.
 */
function twoBackends(t: TestContext): Promise<DispatcherSetup> {
  return startDispatcher(t, ['a', 'b'], { algorithm: 'round-robin', healthCheck: { interval: '10s' } });
}

/** Answers `status` to every call, after reading its body. */
function answering(status: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end(`status ${status}`);
    });
  };
}

/** Answers the request body back, prefixed with the method. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => res.end(`${req.method} ${Buffer.concat(chunks).toString()}`));
}

test('GET to a backend that refuses connections is retried on another one', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  await a!.close();
  const res = await fetch(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'b');
  assert.equal(backendOf(d, a!.url).stats.retries, 1);
  assert.equal(b!.seen.length, 1);
});

test('POST with a string body (undici.request) is retried when the connection is refused: it never reached the backend', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  b!.handler = echo;
  await a!.close();
  const { statusCode, body } = await request(`${ORIGIN}/orders`, {
    dispatcher: d,
    method: 'POST',
    body: 'order 42',
  });
  assert.equal(statusCode, 200);
  assert.equal(await body.text(), 'POST order 42');
  assert.equal(backendOf(d, a!.url).stats.retries, 1);
});

test('a body through fetch is a stream (undici hands even a string over as a generator): a refused POST is not retried', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  b!.handler = echo;
  await a!.close();
  // Documented in the README: retry-safe bodies go through request() or dispatch().
  const outcomes = await Promise.allSettled(
    Array.from({ length: 6 }, () =>
      fetch(`${ORIGIN}/orders`, { dispatcher: d, method: 'POST', body: 'order 43' }),
    ),
  );
  const refused = outcomes.filter(
    (o) =>
      o.status === 'rejected' && (o.reason as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED',
  );
  assert.ok(refused.length > 0, 'some call went to the closed backend and failed there');
  assert.equal(b!.seen.length, outcomes.length - refused.length, 'the others reached b once each');
});

test('POST answered 503 is not retried: the caller sees the 503', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  a!.handler = answering(503);
  const { statusCode, body } = await request(`${ORIGIN}/orders`, {
    dispatcher: d,
    method: 'POST',
    body: 'order 44',
  });
  assert.equal(statusCode, 503);
  assert.equal(await body.text(), 'status 503');
  assert.equal(a!.seen.length, 1);
  assert.equal(b!.seen.length, 0);
});

test('GET answered 503 is retried on another backend', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  a!.handler = answering(503);
  const res = await fetch(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'b');
  assert.equal(a!.seen.length, 1);
  assert.equal(b!.seen.length, 1);
});

test('POST with an Idempotency-Key answered 503 is retried', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  a!.handler = answering(503);
  b!.handler = echo;
  const { statusCode, body } = await request(`${ORIGIN}/orders`, {
    dispatcher: d,
    method: 'POST',
    headers: { 'idempotency-key': 'k-45' },
    body: 'order 45',
  });
  assert.equal(statusCode, 200);
  assert.equal(await body.text(), 'POST order 45');
});

test('500 is never retried, even for GET', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  a!.handler = answering(500);
  const res = await fetch(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(res.status, 500);
  assert.equal(await res.text(), 'status 500');
  assert.equal(b!.seen.length, 0);
  assert.equal(backendOf(d, a!.url).stats.retries, 0);
});

test('POST with a stream body is not retried on a refused connection: fetch fails with the connect error', async (t) => {
  const { d, backends } = await twoBackends(t);
  const [a, b] = backends;
  await a!.close();
  await assert.rejects(
    fetch(`${ORIGIN}/upload`, {
      dispatcher: d,
      method: 'POST',
      body: Readable.from([Buffer.from('part 1, '), Buffer.from('part 2')]),
      duplex: 'half',
    }),
    (error: Error & { cause?: { code?: string } }) => {
      assert.equal(error.name, 'TypeError');
      assert.equal(error.message, 'fetch failed');
      assert.equal(error.cause?.code, 'ECONNREFUSED');
      return true;
    },
  );
  assert.equal(b!.seen.length, 0);
  assert.equal(backendOf(d, a!.url).stats.retries, 0);
  assert.equal(d.inFlight, 0);
});
