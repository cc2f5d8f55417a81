import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Dashboard } from '../../src/admin/dashboard.ts';
import { RequestWindow } from '../../src/admin/request-window.ts';
import { BackendSet } from '../../src/backend-set.ts';
import { BalancerErrorCodes } from '../../src/errors.ts';
import { resolveBalancerConfig } from '../../src/options.ts';

const A = 'http://127.0.0.1:3001';
const B = 'http://127.0.0.1:3002';
const C = 'http://127.0.0.1:3003';

/** A dashboard over a real backend set that is never started (no probes, no connections). */
function dashboardOver(t: TestContext, urls: string[], removedRetentionMs = 30_000) {
  const backends = new BackendSet(resolveBalancerConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0' }));
  backends.apply(urls.map((url) => ({ url, weight: 1 })));
  const lines: string[] = [];
  const dashboard = new Dashboard(
    {
      backends,
      describe: () => ({ algorithm: 'round-robin', discovery: 'static (test)' }),
      inFlight: () => 0,
      window: new RequestWindow(),
      log: (line) => lines.push(line),
    },
    { removedRetentionMs },
  );
  t.after(async () => {
    dashboard.close();
    await backends.close();
  });
  return { backends, dashboard };
}

const states = (dashboard: Dashboard, now?: number) =>
  dashboard.snapshot(now).backends.map((b) => `${b.name} ${b.state}`);

describe('Dashboard', () => {
  it('lists every backend with its name, state and figures', (t) => {
    const { dashboard } = dashboardOver(t, [A, B]);
    const snapshot = dashboard.snapshot();
    assert.equal(snapshot.algorithm, 'round-robin');
    assert.equal(snapshot.discovery, 'static (test)');
    assert.deepEqual(states(dashboard), ['127.0.0.1:3001 warming', '127.0.0.1:3002 warming']);
    const a = snapshot.backends[0]!;
    assert.deepEqual(
      [a.url, a.drain, a.weight, a.inFlight, a.rps, a.successRate, a.p99Ms, a.slowStartPercent],
      [A, null, 1, 0, 0, null, null, null],
    );
  });

  it('shows an operator drain as draining, by the operator', (t) => {
    const { backends, dashboard } = dashboardOver(t, [A, B]);
    backends.find(B)!.drain(true);
    const b = dashboard.snapshot().backends[1]!;
    assert.deepEqual([b.state, b.drain], ['draining', 'operator']);
  });

  it('keeps a removed backend as removed while it has requests in flight, then for the retention time', async (t) => {
    const { backends, dashboard } = dashboardOver(t, [A, B, C], 100);
    const b = backends.find(B)!;
    b.inFlight = 1; // a request still running on it
    backends.apply([A, C].map((url) => ({ url, weight: 1 })));
    assert.deepEqual(states(dashboard), [
      '127.0.0.1:3001 warming',
      '127.0.0.1:3003 warming',
      '127.0.0.1:3002 removed',
    ]);
    assert.deepEqual(
      dashboard.history().backends.map((entry) => entry.url),
      [A, C, B],
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(states(dashboard).length, 3, 'still shown: a request is in flight');
    b.inFlight = 0;
    assert.equal(states(dashboard).length, 3, 'shown for the retention time after its last request');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(states(dashboard), ['127.0.0.1:3001 warming', '127.0.0.1:3003 warming']);
  });

  it('forgets the removed entry when the same URL comes back', (t) => {
    const { backends, dashboard } = dashboardOver(t, [A, B]);
    backends.apply([{ url: A, weight: 1 }]);
    assert.deepEqual(states(dashboard), ['127.0.0.1:3001 warming', '127.0.0.1:3002 removed']);
    backends.apply([A, B].map((url) => ({ url, weight: 1 })));
    assert.deepEqual(states(dashboard), ['127.0.0.1:3001 warming', '127.0.0.1:3002 warming']);
  });

  it('shows at most 64 removed backends, the latest ones', (t) => {
    const urls = Array.from({ length: 80 }, (_, i) => `http://127.0.0.1:${4000 + i}`);
    const { backends, dashboard } = dashboardOver(t, urls);
    for (let i = 1; i <= urls.length; i++) backends.apply(urls.slice(i).map((url) => ({ url, weight: 1 })));
    const shown = dashboard.snapshot().backends;
    assert.equal(shown.length, 64);
    assert.equal(shown.at(-1)!.url, urls.at(-1));
    assert.ok(shown.every((b) => b.state === 'removed'));
  });

  it('refuses a bad client limit with an error naming it', () => {
    const backends = new BackendSet(resolveBalancerConfig({}));
    const source = {
      backends,
      describe: () => ({ algorithm: 'random', discovery: 'none' }),
      inFlight: () => 0,
      window: new RequestWindow(),
      log: () => {},
    };
    assert.throws(() => new Dashboard(source, { maxClients: 0 }), {
      code: BalancerErrorCodes.INVALID_CONFIG,
      message: /^dashboard\.maxClients must be/,
    });
  });
});
