import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf, type StartedBalancer } from './support/balancer-fixture.ts';
import { metricSample } from './support/metric-sample.ts';
import { type TestBackend, until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

interface Fleet {
  readonly backends: TestBackend[];
  readonly started: StartedBalancer;
  /** The state each backend is expected in. */
  readonly states: readonly string[];
}

/**
 * Four backends, all ready at first (a backend that never passed a check stays `warming`, which
 * panic mode never uses); then each one's readiness answers `readiness[i]` while it keeps
 * serving requests, and the test waits for the states that follow.
 */
async function fleet(readiness: readonly number[], options: Record<string, unknown> = {}): Promise<Fleet> {
  const backends = await fx.backends('a', 'b', 'c', 'd');
  const started = await fx.start(backends, { algorithm: 'round-robin', ...options });
  backends.forEach((backend, i) => {
    backend.readyStatus = readiness[i]!;
  });
  const states = readiness.map((status) => (status === 200 ? 'ready' : status === 503 ? 'draining' : 'down'));
  const f = { backends, started, states };
  await until(() => inStates(f), 3000, `states ${states.join(', ')}`);
  return f;
}

function inStates({ backends, started, states }: Fleet): boolean {
  return backends.every((backend, i) => backendOf(started, backend).state === states[i]);
}

/**
 * Names of the backends that answered `count` sequential requests, with how many each, while
 * the backends are in their expected states.
 */
function spread(f: Fleet, count: number): Promise<Record<string, number>> {
  return fx.steady(
    () => spreadOnce(f.started, count),
    () => inStates(f),
  );
}

async function spreadOnce(started: StartedBalancer, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await fx.request(`${started.proxy}/p${i}`);
    assert.equal(res.status, 200);
    counts[res.body] = (counts[res.body] ?? 0) + 1;
  }
  return counts;
}

describe('panic mode through the proxy', () => {
  it('routes to every answering backend when too few are healthy, and says so on /metrics', async () => {
    const f = await fleet([200, 500, 500, 500]);
    // Round robin over the four that still answer: an equal share each.
    assert.deepEqual(await spread(f, 40), { a: 10, b: 10, c: 10, d: 10 });
    assert.equal(metricSample(await fx.metrics(f.started), 'readykit_balancer_panic'), 1);
    const report = await fx.report(f.started);
    assert.equal(report.panic, true);
    assert.deepEqual(
      report.backends.map((b) => b.state),
      ['ready', 'down', 'down', 'down'],
    );
  });

  it('reports panic on /metrics before any request arrives', async () => {
    const { started } = await fleet([200, 500, 500, 500]);
    assert.equal(metricSample(await fx.metrics(started), 'readykit_balancer_panic'), 1);
  });

  it('leaves panic mode once enough backends are healthy again', async () => {
    const f = await fleet([200, 500, 500, 500]);
    await spread(f, 4);
    assert.equal(metricSample(await fx.metrics(f.started), 'readykit_balancer_panic'), 1);
    f.backends[1]!.readyStatus = 200;
    // Two of four healthy is not below 50 %: back to the healthy ones only.
    assert.deepEqual(await spread({ ...f, states: ['ready', 'ready', 'down', 'down'] }, 20), {
      a: 10,
      b: 10,
    });
    assert.equal(metricSample(await fx.metrics(f.started), 'readykit_balancer_panic'), 0);
    assert.equal((await fx.report(f.started)).panic, false);
  });

  it('with panicThreshold 0, sends everything to the one healthy backend', async () => {
    const f = await fleet([200, 500, 500, 500], { panicThreshold: 0 });
    assert.deepEqual(await spread(f, 20), { a: 20 });
    assert.equal(metricSample(await fx.metrics(f.started), 'readykit_balancer_panic'), 0);
    assert.equal((await fx.report(f.started)).panic, false);
  });

  it('never routes to a backend whose readiness says 503, even in panic', async () => {
    const f = await fleet([200, 500, 500, 503]);
    assert.deepEqual(await spread(f, 30), { a: 10, b: 10, c: 10 });
    assert.equal(f.backends[3]!.seen.length, 0);
    assert.equal((await fx.report(f.started)).panic, true);
  });

  it('never routes to a backend that refuses connections, even in panic', async () => {
    const f = await fleet([200, 500, 500, 200]);
    await f.backends[3]!.close();
    assert.deepEqual(await spread({ ...f, states: ['ready', 'down', 'down', 'down'] }, 30), {
      a: 10,
      b: 10,
      c: 10,
    });
    assert.equal(backendOf(f.started, f.backends[3]!).stats.requests, 0);
    assert.equal((await fx.report(f.started)).panic, true);
  });
});
