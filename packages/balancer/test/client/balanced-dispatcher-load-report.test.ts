import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { fetch, request } from 'undici';
import { seededRng } from '../support/seeded-rng.ts';
import type { TestBackend } from '../support/test-backend.ts';
import { backendOf, ORIGIN, startDispatcher } from './dispatcher-fixture.ts';

const HEADER = 'endpoint-load-metrics';

/** Answers its name after `delayMs`, reporting `utilization` as the kit does. */
function reporting(name: string, utilization: number, delayMs = 0) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    setTimeout(() => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader(HEADER, `TEXT application_utilization=${utilization}, named_metrics.in_flight=3`);
      res.end(name);
    }, delayMs);
  };
}

test('the load report is recorded for the backend and never reaches the caller', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  const a = backends[0]!;
  a.handler = reporting('a', 0.9);
  // Control: the backend does send it.
  const direct = await request(`${a.url}/x`);
  await direct.body.text();
  assert.match(String(direct.headers[HEADER]), /application_utilization=0\.9/);

  const viaFetch = await fetch(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(await viaFetch.text(), 'a');
  assert.equal(viaFetch.headers.get(HEADER), null);
  assert.equal(viaFetch.headers.get('content-type'), 'text/plain');
  assert.ok(backendOf(d, a.url).load.utilization(performance.now()) > 0.8);

  const viaNodeFetch = await globalThis.fetch(`${ORIGIN}/x`, { dispatcher: d } as RequestInit);
  assert.equal(await viaNodeFetch.text(), 'a');
  assert.equal(viaNodeFetch.headers.get(HEADER), null);
  assert.equal(viaNodeFetch.headers.get('content-type'), 'text/plain');

  const viaRequest = await request(`${ORIGIN}/x`, { dispatcher: d });
  assert.equal(await viaRequest.body.text(), 'a');
  assert.equal(viaRequest.headers[HEADER], undefined);
  assert.equal(viaRequest.headers['content-type'], 'text/plain');
  assert.equal(a.seen.length, 4);
});

/** 300 calls from 6 concurrent callers; the answering backends' names, counted. */
async function shares(call: () => Promise<string>): Promise<Record<string, number>> {
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  let left = 300;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (left-- > 0) {
        const name = await call();
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

async function loadedSpread(t: import('node:test').TestContext, options: Record<string, unknown>) {
  const { d, backends } = await startDispatcher(t, ['a', 'b', 'c'], { rng: seededRng(7), ...options });
  const [a, b, c] = backends as [TestBackend, TestBackend, TestBackend];
  // Same latency everywhere: only the reports differ.
  a.handler = reporting('a', 0.95, 3);
  b.handler = reporting('b', 0.1, 3);
  c.handler = reporting('c', 0.1, 3);
  return shares(async () => (await request(`${ORIGIN}/x`, { dispatcher: d })).body.text());
}

test('p2c-ewma: a backend reporting 0.95 gets clearly fewer calls than two reporting 0.1', async (t) => {
  const counts = await loadedSpread(t, {});
  const detail = JSON.stringify(counts);
  assert.ok(counts.a! < 30, `the loaded backend got ${counts.a} of 300: ${detail}`);
  assert.ok(counts.b! > 4 * counts.a! && counts.c! > 4 * counts.a!, detail);
});

test('p2c-ewma with loadReport.weight 0: the reports are ignored and shares are near equal', async (t) => {
  const counts = await loadedSpread(t, { loadReport: { weight: 0 } });
  for (const [name, n] of Object.entries(counts))
    assert.ok(n > 60 && n < 140, `${name} got ${n} of 300: ${JSON.stringify(counts)}`);
});
