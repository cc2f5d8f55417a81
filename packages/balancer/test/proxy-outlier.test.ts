import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf, type StartedBalancer } from './support/balancer-fixture.ts';
import { metricSample } from './support/metric-sample.ts';
import { type TestBackend, until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const BASE_EJECTION_MS = 500;

function badGateway(name: string) {
  return (_req: unknown, res: ServerResponse) => {
    res.statusCode = 502;
    res.end(`${name} failed`);
  };
}

/** `a` answers 502 to every request while its readiness says 200; `b` answers 200. */
async function oneFailing(): Promise<{ a: TestBackend; b: TestBackend; started: StartedBalancer }> {
  const [a, b] = await fx.backends('a', 'b');
  a!.handler = badGateway('a');
  const started = await fx.start([a!, b!], {
    algorithm: 'round-robin',
    outlier: { consecutiveFailures: 3, baseEjectionTime: BASE_EJECTION_MS },
  });
  return { a: a!, b: b!, started };
}

/** Sends GETs one at a time until `done` holds (at most `max`); every one must get `status`. */
async function sendUntil(started: StartedBalancer, done: () => boolean, max = 50, status = 200) {
  for (let sent = 0; !done(); sent++) {
    assert.ok(sent < max, `still waiting after ${max} requests`);
    assert.equal((await fx.request(`${started.proxy}/o`)).status, status);
  }
}

/** Round robin over `a` and `b`, ejecting after two failures, with `firstByte` ms to answer. */
function startWithFirstByteTimeout(
  a: TestBackend,
  b: TestBackend,
  firstByte: number,
): Promise<StartedBalancer> {
  return fx.start([a, b], {
    algorithm: 'round-robin',
    timeouts: { firstByte },
    outlier: { consecutiveFailures: 2, baseEjectionTime: 5000 },
  });
}

describe('outlier ejection through the proxy', () => {
  it('ejects a backend after consecutive 5xx, routes around it, and takes it back when the ejection ends', async () => {
    const { a, b, started } = await oneFailing();
    const outlier = backendOf(started, a).outlier;
    // Its 502s are retried on b, so the client never sees them.
    await sendUntil(started, () => outlier.isEjected(performance.now()));
    assert.equal(a.seen.length, 3, 'ejected by its third failure');

    const report = await fx.report(started);
    const reportA = report.backends.find((x) => x.url === a.url)!;
    assert.equal(reportA.ejected, true);
    assert.equal(reportA.state, 'ready', 'readiness still says ready');
    assert.ok(
      reportA.ejectedForMs > 0 && reportA.ejectedForMs <= BASE_EJECTION_MS,
      `${reportA.ejectedForMs} ms`,
    );
    assert.equal(reportA.ejections, 1);
    const metrics = await fx.metrics(started);
    assert.equal(metricSample(metrics, 'readykit_balancer_backend_ejected', { backend: a.url }), 1);
    assert.equal(metricSample(metrics, 'readykit_balancer_backend_ejected', { backend: b.url }), 0);

    // Requests sent well inside the ejection all go to b.
    a.handler = (_req, res) => res.end('a');
    let during = 0;
    while (outlier.ejectedUntil - performance.now() > 100) {
      assert.equal((await fx.request(`${started.proxy}/o`)).body, 'b');
      during++;
    }
    assert.ok(during > 0, 'requests were sent during the ejection');
    assert.equal(a.seen.length, 3);

    await until(() => !outlier.isEjected(performance.now()), BASE_EJECTION_MS + 500, 'ejection over');
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push((await fx.request(`${started.proxy}/o`)).body);
    assert.equal(answers.filter((name) => name === 'a').length, 10, 'a has its share back');
    assert.equal((await fx.report(started)).backends.find((x) => x.url === a.url)!.ejected, false);
  });

  it('ejects a backend that keeps failing for longer each time', async () => {
    const { a, started } = await oneFailing();
    const outlier = backendOf(started, a).outlier;
    await sendUntil(started, () => outlier.isEjected(performance.now()));
    await until(() => !outlier.isEjected(performance.now()), BASE_EJECTION_MS + 500, 'first ejection over');
    await sendUntil(started, () => outlier.isEjected(performance.now()));
    assert.equal(a.seen.length, 6);
    const reportA = (await fx.report(started)).backends.find((x) => x.url === a.url)!;
    assert.equal(reportA.ejections, 2);
    assert.ok(reportA.ejectedForMs > BASE_EJECTION_MS, `second ejection lasts ${reportA.ejectedForMs} ms`);
  });

  it('never ejects more than half the backends, even when all of them fail', async () => {
    const [a, b] = await fx.backends('a', 'b');
    a!.handler = badGateway('a');
    b!.handler = badGateway('b');
    const started = await fx.start([a!, b!], {
      algorithm: 'round-robin',
      outlier: { consecutiveFailures: 2, baseEjectionTime: 200 },
    });
    const backends = [backendOf(started, a!), backendOf(started, b!)];
    const ejectedNow = () => backends.filter((x) => x.outlier.isEjected(performance.now())).length;
    let mostEjected = 0;
    let sawOneEjected = 0;
    const stop = performance.now() + 1200;
    while (performance.now() < stop) {
      // Both fail: the retry on the other backend fails too, and the client gets the 502.
      assert.equal((await fx.request(`${started.proxy}/o`)).status, 502);
      const now = ejectedNow();
      mostEjected = Math.max(mostEjected, now);
      if (now === 1) sawOneEjected++;
      if (sawOneEjected % 25 === 1) {
        const report = await fx.report(started);
        assert.ok(report.backends.filter((x) => x.ejected).length <= 1, JSON.stringify(report.backends));
      }
    }
    assert.equal(mostEjected, 1);
    assert.ok(sawOneEjected > 0);
    // Ejections take turns: the one kept in rotation is ejected as soon as the other returns.
    const ejections = backends.map((x) => x.stats.ejections);
    assert.ok(ejections[0]! >= 1 && ejections[1]! >= 1, `ejections ${ejections.join(', ')}`);
  });

  it('ejects a backend that leaves requests unanswered for the whole first-byte timeout', async () => {
    const [a, b] = await fx.backends('a', 'b');
    // a still answers its readiness probes, but never its requests (a stuck pool, say).
    a!.handler = () => {};
    const started = await startWithFirstByteTimeout(a!, b!, 150);
    const outlier = backendOf(started, a!).outlier;
    const statuses: number[] = [];
    for (let sent = 0; !outlier.isEjected(performance.now()); sent++) {
      assert.ok(sent < 10, 'still not ejected after 10 requests');
      statuses.push((await fx.request(`${started.proxy}/o`)).status);
    }
    assert.equal(a!.seen.length, 2, 'ejected by its second timeout');
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [504, 504],
    );
    for (let i = 0; i < 6; i++) assert.equal((await fx.request(`${started.proxy}/o`)).body, 'b');
    const reportA = (await fx.report(started)).backends.find((x) => x.url === a!.url)!;
    assert.equal(reportA.ejected, true);
    assert.equal(reportA.state, 'ready', 'its readiness still says ready');
  });

  it("does not count a timeout that the client's own shorter deadline caused", async () => {
    const [a, b] = await fx.backends('a', 'b');
    a!.handler = (_req, res) => {
      setTimeout(() => res.end('a, late'), 300);
    };
    const started = await startWithFirstByteTimeout(a!, b!, 5000);
    const outlier = backendOf(started, a!).outlier;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fx.request(`${started.proxy}/o`, { headers: { 'x-readykit-timeout-ms': '50' } });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [504, 200, 504, 200, 504, 200], 'a missed every 50 ms deadline');
    assert.equal(outlier.consecutiveFailures, 0);
    assert.equal(outlier.isEjected(performance.now()), false);
  });
});
