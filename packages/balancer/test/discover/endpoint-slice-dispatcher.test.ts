import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { BalancedDispatcher } from '../../src/client/balanced-dispatcher.ts';
import { EndpointSliceDiscovery } from '../../src/discover/endpoint-slice-discovery.ts';
import { FakeKubeApi } from '../support/fake-kube-api.ts';
import { ENDPOINT_READY, type EndpointConditions, loopbackSlice } from '../support/loopback-slice.ts';
import { startTestBackend, until } from '../support/test-backend.ts';

const TERMINATING: EndpointConditions = { ready: false, serving: true, terminating: true };
const ORIGIN = 'http://api.default.svc';

test('a dispatcher fed by EndpointSlices: calls follow the ready endpoints; terminating and removed ones stop getting calls, and no idempotent call fails', async (t) => {
  const api = await FakeKubeApi.start();
  t.after(() => api.close());
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => startTestBackend(name)));
  t.after(() => Promise.all([a!, b!, c!].map((x) => x.close())));
  for (const [name, backend] of [
    ['a', a!],
    ['b', b!],
    ['c', c!],
  ] as const)
    api.apply(loopbackSlice(name, backend, ENDPOINT_READY));

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(api.kubeconfigYaml());
  const d = new BalancedDispatcher({
    origin: ORIGIN,
    discovery: new EndpointSliceDiscovery({ service: 'api', port: 'http', kubeConfig }),
    // Round-robin reaches every backend at once; p2c-ewma may leave a fresh one aside.
    algorithm: 'round-robin',
    healthCheck: { interval: '100ms' },
    slowStart: { window: 0 },
  });
  t.after(() => d.destroy());
  await until(
    () => [...d.cluster.backends.all()].filter((x) => x.state === 'ready').length === 3,
    5000,
    'three endpoints ready',
  );

  const answers = new Map<string, number>();
  const failures: string[] = [];
  let running = true;
  // A caller that never stops while the endpoints change: sequential idempotent GETs.
  const caller = (async () => {
    while (running) {
      try {
        const res = await fetch(`${ORIGIN}/item`, { dispatcher: d });
        const body = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${body}`);
        else answers.set(body, (answers.get(body) ?? 0) + 1);
      } catch (error) {
        failures.push(String((error as Error & { cause?: unknown }).cause ?? error));
      }
    }
  })();
  const settle = async (calls: number): Promise<void> => {
    const total = () => [...answers.values()].reduce((x, y) => x + y, 0) + failures.length;
    const target = total() + calls;
    await until(() => total() >= target, 5000, `${calls} more calls`);
  };
  try {
    await settle(30);
    assert.deepEqual([...answers.keys()].sort(), ['a', 'b', 'c'], 'every ready endpoint got calls');

    api.apply(loopbackSlice('c', c!, TERMINATING));
    await until(() => d.cluster.backends.find(c!.url)?.state === 'draining', 3000, 'c draining');
    const seenByC = c!.seen.length;
    await settle(30);
    assert.equal(c!.seen.length, seenByC, 'a terminating endpoint got a new call');

    api.delete('api-b');
    await until(() => d.cluster.backends.find(b!.url) === undefined, 3000, 'b removed');
    const seenByB = b!.seen.length;
    answers.clear();
    await settle(30);
    assert.equal(b!.seen.length, seenByB, 'a removed endpoint got a new call');
    assert.deepEqual([...answers.keys()], ['a'], 'only a is left');
  } finally {
    running = false;
    await caller;
  }
  assert.deepEqual(failures, [], 'no idempotent call failed');
  assert.equal(d.inFlight, 0);
});
