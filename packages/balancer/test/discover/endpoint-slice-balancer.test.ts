import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { EndpointSliceDiscovery } from '../../src/discover/endpoint-slice-discovery.ts';
import { BalancerFixture } from '../support/balancer-fixture.ts';
import { FakeKubeApi } from '../support/fake-kube-api.ts';
import { ENDPOINT_READY, loopbackSlice } from '../support/loopback-slice.ts';
import { until } from '../support/test-backend.ts';

test('through the balancer: terminating-but-serving endpoints get no new requests and finish those in flight; not serving ones go', async (t) => {
  const fixture = new BalancerFixture();
  const api = await FakeKubeApi.start();
  t.after(async () => {
    await fixture.close();
    await api.close();
  });
  const [a, b, c] = await fixture.backends('a', 'b', 'c');
  api.apply(loopbackSlice('a', a!, ENDPOINT_READY));
  api.apply(loopbackSlice('b', b!, ENDPOINT_READY));
  api.apply(loopbackSlice('c', c!, ENDPOINT_READY));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(api.kubeconfigYaml());
  const lines: string[] = [];
  const discovery = new EndpointSliceDiscovery({
    service: 'api',
    port: 'http',
    kubeConfig,
    log: (l) => lines.push(l),
  });
  // Round-robin reaches c within three requests; P2C-EWMA may shun it after one slow probe.
  const { balancer, proxy, admin } = await fixture.startDiscovered(
    discovery,
    { algorithm: 'round-robin' },
    3,
  );
  const get = () => fixture.request(`${proxy}/`);

  // Hold c's next answer: one request to it is in flight when Kubernetes starts terminating it.
  const held: ServerResponse[] = [];
  c!.handler = (_req, res) => held.push(res);
  const sent: Array<{ answer: Promise<{ status: number; body: string }>; done: boolean }> = [];
  for (let i = 0; i < 30 && held.length === 0; i++) {
    const request = { answer: get(), done: false };
    const finished = () => {
      request.done = true;
    };
    request.answer.then(finished, finished);
    sent.push(request);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(held.length, 1, 'one request reached c');
  // Every other request is answered; the one still open is c's.
  await until(() => sent.filter((r) => !r.done).length === 1, 3000, 'the others answered');
  const toC = sent.find((r) => !r.done)!.answer;

  api.apply(loopbackSlice('c', c!, { ready: false, serving: true, terminating: true }));
  await until(
    () => [...balancer.backends.all()].some((x) => x.id === c!.url && x.state === 'draining'),
    3000,
    'c draining',
  );
  const seenByC = c!.seen.length;
  const answers = await Promise.all(Array.from({ length: 30 }, get));
  assert.ok(
    answers.every((r) => r.status === 200 && (r.body === 'a' || r.body === 'b')),
    answers.map((r) => `${r.status} ${r.body}`).join(', '),
  );
  assert.equal(c!.seen.length, seenByC, 'a draining backend got a new request');

  const report = JSON.parse((await fixture.request(`${admin}/api/backends`)).body) as {
    discovery: string;
    backends: Array<{ url: string; state: string; drain: string | null; inFlight: number }>;
  };
  assert.equal(report.discovery, 'kubernetes endpointslices default/api port http (3 backends)');
  const cReport = report.backends.find((x) => x.url === c!.url);
  assert.equal(cReport?.drain, 'discovery');
  assert.equal(cReport?.inFlight, 1);

  held[0]!.end('c, late');
  const late = await toC;
  assert.equal(late.status, 200);
  assert.equal(late.body, 'c, late');

  api.apply(loopbackSlice('c', c!, { ready: false, serving: false, terminating: true }));
  await until(() => balancer.backends.size === 2, 3000, 'c removed');
  assert.deepEqual([...balancer.backends.all()].map((x) => x.id).sort(), [a!.url, b!.url].sort());
  assert.ok(
    lines.includes('kubernetes default/api: 3 backends (1 draining) from 3 slices'),
    lines.join('\n'),
  );
});
