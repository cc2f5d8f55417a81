import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { LOAD_REPORT_HEADER } from '@readykit/metrics';
import { BalancerFixture, backendOf } from './support/balancer-fixture.ts';
import { metricSample } from './support/metric-sample.ts';
import type { TestBackend } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

/**
 * Makes `backend` report `utilization` on every response, as the kit's middleware does, after
 * `delayMs` of simulated work (so latencies are alike, not loopback noise).
 */
function reporting(backend: TestBackend, utilization: number, delayMs = 0): void {
  const name = backend.url;
  backend.handler = (_req, res) => {
    res.setHeader(
      LOAD_REPORT_HEADER,
      `TEXT application_utilization=${utilization}, named_metrics.in_flight=1`,
    );
    if (delayMs === 0) res.end(name);
    else setTimeout(() => res.end(name), delayMs);
  };
}

describe('server-reported load through the proxy', () => {
  it('strips the report from the client response and records it per backend', async () => {
    const [a] = await fx.backends('a');
    reporting(a!, 0.42);
    const started = await fx.start([a!]);
    const res = await fx.request(`${started.proxy}/x`);
    assert.equal(res.status, 200);
    assert.equal(res.headers[LOAD_REPORT_HEADER], undefined, 'the client never sees the report');
    assert.ok(Math.abs(backendOf(started, a!).load.utilization(performance.now()) - 0.42) < 0.01);
    const metrics = await fx.metrics(started);
    const reported = metricSample(metrics, 'readykit_balancer_backend_reported_utilization', {
      backend: a!.url,
    });
    assert.ok(reported !== undefined && Math.abs(reported - 0.42) < 0.01, `metric: ${reported}`);
  });

  it('ignores a malformed report and still strips it', async () => {
    const [a] = await fx.backends('a');
    a!.handler = (_req, res) => {
      res.setHeader(LOAD_REPORT_HEADER, 'TEXT application_utilization=lots');
      res.end('a');
    };
    const started = await fx.start([a!]);
    const res = await fx.request(`${started.proxy}/x`);
    assert.equal(res.headers[LOAD_REPORT_HEADER], undefined);
    assert.equal(backendOf(started, a!).load.reported, false);
  });

  it('sends a backend reporting saturation less traffic than its peers at equal latency; weight 0 ignores reports', async () => {
    const shares = async (weight: number): Promise<number> => {
      const [busy, a, b] = await fx.backends('busy', 'a', 'b');
      reporting(busy!, 0.95, 5);
      reporting(a!, 0.2, 5);
      reporting(b!, 0.2, 5);
      const started = await fx.start([busy!, a!, b!], { loadReport: { weight } });
      // Six at a time: with one at a time p2c sends each request to whichever backend looks
      // fastest at that instant, and shares say more about timing noise than about reports.
      const calls = 240;
      for (let round = 0; round < calls / 6; round++) {
        const answers = await Promise.all(Array.from({ length: 6 }, () => fx.request(`${started.proxy}/x`)));
        for (const answer of answers) assert.equal(answer.status, 200);
      }
      const share = busy!.seen.length / calls;
      await fx.close();
      return share;
    };
    const on = await shares(1);
    const off = await shares(0);
    const shown = `busy share: reports counted ${(on * 100).toFixed(1)} %, ignored ${(off * 100).toFixed(1)} %`;
    console.log(shown);
    assert.ok(off > 0.15, `ignoring reports it keeps about a third: ${shown}`);
    assert.ok(on < off * 0.6, `counting reports it gets clearly less: ${shown}`);
  });
});
