import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Dispatcher, request } from 'undici';
import { backendOf, ORIGIN, startDispatcher } from './dispatcher-fixture.ts';

const OPTIONS = {
  algorithm: 'round-robin',
  outlier: { consecutiveFailures: 2, baseEjectionTime: '5s' },
} as const;

test('a backend that leaves calls unanswered for the whole first-byte timeout is ejected', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a', 'b'], {
    ...OPTIONS,
    timeouts: { firstByte: '150ms' },
  });
  const [a] = backends;
  a!.handler = () => {}; // its readiness still answers
  const outlier = backendOf(d, a!.url).outlier;
  const failures: Array<string | number> = [];
  for (let sent = 0; !outlier.isEjected(performance.now()); sent++) {
    assert.ok(sent < 10, 'still not ejected after 10 calls');
    const result = await outcomeThrough(d);
    if (result !== 200) failures.push(result);
  }
  assert.equal(a!.seen.length, 2, 'ejected by its second timeout');
  assert.deepEqual(failures, ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
  for (let i = 0; i < 4; i++) assert.equal(await outcomeThrough(d), 200);
  assert.equal(a!.seen.length, 2, 'no call reached it while ejected');
});

test("a caller's own shorter headersTimeout does not count against the backend", async (t) => {
  const { d, backends } = await startDispatcher(t, ['a', 'b'], {
    ...OPTIONS,
    timeouts: { firstByte: '10s' },
  });
  const [a] = backends;
  // Later than undici's coarse headers timer (about a second) can let a 100 ms timeout run.
  a!.handler = (_req, res) => {
    setTimeout(() => res.end('a, late'), 2500).unref();
  };
  const results: Array<string | number> = [];
  for (let i = 0; i < 4; i++) results.push(await outcomeThrough(d, 100));
  assert.deepEqual(results, ['UND_ERR_HEADERS_TIMEOUT', 200, 'UND_ERR_HEADERS_TIMEOUT', 200]);
  const outlier = backendOf(d, a!.url).outlier;
  assert.equal(outlier.consecutiveFailures, 0);
  assert.equal(outlier.isEjected(performance.now()), false);
});

/** One GET through `dispatcher`: its status when answered, else its error code. */
async function outcomeThrough(dispatcher: Dispatcher, headersTimeout?: number): Promise<string | number> {
  try {
    const res = await request(`${ORIGIN}/x`, {
      dispatcher,
      ...(headersTimeout === undefined ? {} : { headersTimeout }),
    });
    await res.body.text();
    return res.statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
