import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf } from './support/balancer-fixture.ts';
import { metricSample } from './support/metric-sample.ts';
import { until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

describe('metrics under discovery churn', () => {
  it("drops a removed backend's series once its last request is done, and keeps counting that request", async () => {
    const [a, b] = await fx.backends('a', 'b');
    const held: ServerResponse[] = [];
    b!.handler = (_req, res) => held.push(res);
    const started = await fx.start([a!, b!], { algorithm: 'round-robin' });
    const { balancer } = started;
    const requests = (url: string, text: string) =>
      metricSample(text, 'readykit_balancer_requests_total', { backend: url, code_class: '2xx' });

    // Round robin: a, then b (held there), then a.
    assert.equal((await fx.request(`${started.proxy}/`)).body, 'a');
    const onB = fx.request(`${started.proxy}/`);
    await until(() => held.length === 1, 2000, 'a request held on b');
    const backendB = backendOf(started, b!);

    balancer.backends.apply([{ url: a!.url, weight: 1 }]);
    assert.equal(backendB.state, 'removed');
    let text = await fx.metrics(started);
    assert.equal(requests(a!.url, text), 1);
    assert.equal(
      metricSample(text, 'readykit_balancer_backend_in_flight', { backend: b!.url }),
      undefined,
      'gauges list only backends in the set',
    );

    held[0]!.end('b');
    assert.equal((await onB).body, 'b');
    await backendB.retired;
    text = await fx.metrics(started);
    assert.equal(requests(b!.url, text), undefined, "b's counters are gone");
    assert.doesNotMatch(text, new RegExp(`backend="${b!.url}"`));
    assert.equal(requests(a!.url, text), 1, "a's stay");
  });

  it('keeps the series of a URL that came back before the old backend finished', async () => {
    const [a, b] = await fx.backends('a', 'b');
    const held: ServerResponse[] = [];
    const started = await fx.start([a!, b!], { algorithm: 'round-robin' });
    const { balancer } = started;
    await fx.request(`${started.proxy}/`);
    b!.handler = (_req, res) => held.push(res);
    const onB = fx.request(`${started.proxy}/`);
    await until(() => held.length === 1, 2000, 'a request held on b');
    const oldB = backendOf(started, b!);
    balancer.backends.apply([{ url: a!.url, weight: 1 }]);
    balancer.backends.apply([
      { url: a!.url, weight: 1 },
      { url: b!.url, weight: 1 },
    ]);
    held[0]!.end('b');
    await onB;
    await oldB.retired;
    const text = await fx.metrics(started);
    assert.equal(
      metricSample(text, 'readykit_balancer_requests_total', { backend: b!.url, code_class: '2xx' }),
      1,
      'the new b keeps the series',
    );
  });
});
