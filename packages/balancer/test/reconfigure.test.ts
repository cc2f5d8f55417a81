import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { resolveBalancerConfig } from '../src/options.ts';
import { BalancerFixture, backendOf } from './support/balancer-fixture.ts';
import { until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const BASE = {
  listen: '127.0.0.1:0',
  admin: '127.0.0.1:0',
  healthCheck: { interval: 50, timeout: 50, rise: 1, fall: 3 },
  slowStart: { window: 0 },
};

describe('Balancer.reconfigure', () => {
  it('applies backends, weights and the algorithm in place and reports start-only settings', async () => {
    const [a, b, c] = await fx.backends('a', 'b', 'c');
    const started = await fx.start([a!, b!], { algorithm: 'p2c-ewma' });
    const { balancer } = started;
    const backendA = backendOf(started, a!);
    const poolA = backendA.pool;

    const result = balancer.reconfigure(
      resolveBalancerConfig({
        ...BASE,
        algorithm: 'round-robin',
        backends: [{ url: a!.url, weight: 3 }, c!.url],
        timeouts: { connect: 1500 },
      }),
    );
    assert.deepEqual([...result.applied].sort(), ['algorithm', 'backends']);
    assert.deepEqual(result.needRestart, ['timeouts.connect']);
    assert.equal(balancer.engine.balance.name, 'round-robin');
    assert.equal(balancer.config.algorithm, 'round-robin');
    assert.equal(balancer.config.timeouts.connect, started.balancer.config.timeouts.connect);
    assert.notEqual(balancer.config.timeouts.connect, 1500, 'start-only settings keep their running value');

    // a is the same backend (connections, readiness, history), now at weight 3.
    assert.equal(backendOf(started, a!), backendA);
    assert.equal(backendA.pool, poolA);
    assert.equal(backendA.weight, 3);
    assert.equal(backendA.state, 'ready');
    assert.equal(
      [...balancer.backends.all()].some((x) => x.id === b!.url),
      false,
      'b is gone',
    );
    await until(() => backendOf(started, c!).state === 'ready', 2000, 'c ready');

    // Weighted round robin 3:1 over a and c.
    const bodies = await Promise.all(Array.from({ length: 8 }, () => fx.request(`${started.proxy}/`)));
    const counts = { a: 0, c: 0 } as Record<string, number>;
    for (const r of bodies) counts[r.body] = (counts[r.body] ?? 0) + 1;
    assert.deepEqual(counts, { a: 6, c: 2 });
  });

  it('changes nothing when the configuration is the same', async () => {
    const [a] = await fx.backends('a');
    const started = await fx.start([a!]);
    const before = started.balancer.engine.balance;
    const result = started.balancer.reconfigure(resolveBalancerConfig({ ...BASE, backends: [a!.url] }));
    assert.deepEqual(result, { applied: [], needRestart: [] });
    assert.equal(started.balancer.engine.balance, before);
  });
});
