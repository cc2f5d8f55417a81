import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf, type StartedBalancer } from './support/balancer-fixture.ts';
import { metricSample } from './support/metric-sample.ts';
import type { TestBackend } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const EXHAUSTED = 'readykit_balancer_retry_budget_exhausted_total';

/**
 * Backend `a` answers `status` to every request while its readiness says 200; `b` answers 200.
 * Round robin alternates them, so about half the requests try `a` first; outlier ejection is
 * out of reach, so `a` keeps its share.
 */
async function oneFailing(
  status: number,
  options: Record<string, unknown> = {},
): Promise<{ a: TestBackend; b: TestBackend; started: StartedBalancer }> {
  const [a, b] = await fx.backends('a', 'b');
  a!.handler = (_req, res) => {
    res.statusCode = status;
    res.end(`a says ${status}`);
  };
  const started = await fx.start([a!, b!], {
    algorithm: 'round-robin',
    outlier: { consecutiveFailures: 1000 },
    ...options,
  });
  return { a: a!, b: b!, started };
}

async function send(
  started: StartedBalancer,
  count: number,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Array<{ status: number; body: string }>> {
  const answers = [];
  for (let i = 0; i < count; i++) answers.push(await fx.request(`${started.proxy}/r${i}`, options));
  return answers;
}

function statusesOf(answers: ReadonlyArray<{ status: number }>, status: number): number {
  return answers.filter((answer) => answer.status === status).length;
}

describe('retries through the proxy', () => {
  it('with the default budget, a GET that meets a 503 succeeds on the other backend', async () => {
    const { a, b, started } = await oneFailing(503);
    const answers = await send(started, 40);
    assert.deepEqual(new Set(answers.map((x) => `${x.status} ${x.body}`)), new Set(['200 b']));
    assert.ok(a.seen.length >= 15, `a was tried ${a.seen.length} times`);
    assert.equal(b.seen.length, 40);
    assert.equal(backendOf(started, a).stats.retries, a.seen.length);
    const metrics = await fx.metrics(started);
    assert.equal(metricSample(metrics, 'readykit_balancer_retries_total', { backend: a.url }), a.seen.length);
    assert.equal(metricSample(metrics, EXHAUSTED), 0);
  });

  it('stops retrying once the budget is spent, and the 503s reach the client', async () => {
    // No share of traffic, a reserve of 1 per second: 10 retries over the 10 s window.
    const { a, b, started } = await oneFailing(503, { retry: { budgetRatio: 0, minPerSecond: 1 } });
    assert.equal(metricSample(await fx.metrics(started), EXHAUSTED), 0);
    const answers = await send(started, 60);
    const refused = statusesOf(answers, 503);
    assert.equal(backendOf(started, a).stats.retries, 10, 'the reserve, all of it');
    assert.equal(refused, a.seen.length - 10, 'every later attempt on a reached the client');
    assert.ok(refused >= 10, `${refused} 503s`);
    assert.equal(statusesOf(answers, 200), b.seen.length);
    for (const answer of answers) if (answer.status === 503) assert.equal(answer.body, 'a says 503');
    assert.equal(metricSample(await fx.metrics(started), EXHAUSTED), refused);
  });

  // A retry repeats the request: only when that is safe, and never with a body already streamed.
  const methods: Array<
    [string, { method: string; headers?: Record<string, string>; body?: string }, boolean]
  > = [
    ['GET', { method: 'GET' }, true],
    ['DELETE', { method: 'DELETE' }, true],
    ['POST without Idempotency-Key', { method: 'POST' }, false],
    ['POST with Idempotency-Key', { method: 'POST', headers: { 'idempotency-key': 'k-1' } }, true],
    [
      'POST with Idempotency-Key and a body',
      { method: 'POST', headers: { 'idempotency-key': 'k-2' }, body: 'order' },
      false,
    ],
    ['PUT with a body', { method: 'PUT', body: 'doc' }, false],
  ];
  for (const [name, options, retried] of methods) {
    it(`${retried ? 'retries' : 'does not retry'} a ${name} answered 503`, async () => {
      const { a, b, started } = await oneFailing(503);
      const answers = await send(started, 12, options);
      assert.ok(a.seen.length >= 4, `a was tried ${a.seen.length} times`);
      for (const req of [...a.seen, ...b.seen]) assert.equal(req.method, options.method);
      if (retried) {
        assert.equal(statusesOf(answers, 200), 12);
        assert.equal(b.seen.length, 12);
      } else {
        assert.equal(statusesOf(answers, 503), a.seen.length);
        assert.equal(b.seen.length, 12 - a.seen.length, 'b saw only its own share');
      }
      assert.equal(backendOf(started, a).stats.retries, retried ? a.seen.length : 0);
    });
  }

  // 500 and 501 are the backend's considered answer; 502-504 say it could not answer.
  const statuses: Array<[number, boolean]> = [
    [400, false],
    [404, false],
    [429, false],
    [500, false],
    [501, false],
    [502, true],
    [503, true],
    [504, true],
  ];
  for (const [status, retried] of statuses) {
    it(`${retried ? 'retries' : 'passes on'} a GET answered ${status}`, async () => {
      const { a, b, started } = await oneFailing(status);
      const answers = await send(started, 10);
      assert.ok(a.seen.length >= 4, `a was tried ${a.seen.length} times`);
      const reached = retried ? 0 : a.seen.length;
      assert.equal(statusesOf(answers, status), reached, `${status}s the client got`);
      assert.equal(statusesOf(answers, 200), 10 - reached);
      assert.equal(b.seen.length, 10 - reached);
      assert.equal(backendOf(started, a).stats.retries, retried ? a.seen.length : 0);
    });
  }
});
