import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { EndpointSliceDiscovery } from '../../src/discover/endpoint-slice-discovery.ts';
import type { EndpointSliceDiscoveryOptions } from '../../src/discover/endpoint-slice-options.ts';
import type { BackendSpec } from '../../src/options.ts';
import { type FakeEndpoint, FakeKubeApi, type FakeSlice } from '../support/fake-kube-api.ts';
import { until } from '../support/test-backend.ts';

const READY = { ready: true, serving: true, terminating: false };
const TERMINATING = { ready: false, serving: true, terminating: true };
const GONE = { ready: false, serving: false, terminating: true };

/** A slice of Service `api` with port `http` 8080, endpoints as `address` or `[address, conditions]`. */
function apiSlice(
  name: string,
  ...endpoints: Array<string | [string, FakeEndpoint['conditions']]>
): FakeSlice {
  return {
    name,
    service: 'api',
    endpoints: endpoints.map((e) =>
      typeof e === 'string' ? { addresses: [e], conditions: READY } : { addresses: [e[0]], conditions: e[1] },
    ),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** `10.0.0.1` for a backend, `10.0.0.2 draining` for a draining one. */
function hosts(set: readonly BackendSpec[] | undefined): string[] {
  return (set ?? []).map((b) => `${new URL(b.url).hostname}${b.draining === true ? ' draining' : ''}`);
}

interface Harness {
  readonly api: FakeKubeApi;
  readonly discovery: EndpointSliceDiscovery;
  readonly kubeconfig: string;
  readonly lines: string[];
  readonly sets: BackendSpec[][];
  /** Subscribes, collecting every set in `sets`. */
  subscribe(): () => void;
  last(): string[];
}

async function harness(
  t: TestContext,
  options: Partial<EndpointSliceDiscoveryOptions> = {},
): Promise<Harness> {
  const api = await FakeKubeApi.start();
  const dir = await mkdtemp(join(tmpdir(), 'rk-endpointslices-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeconfigYaml());
  const lines: string[] = [];
  const sets: BackendSpec[][] = [];
  const discovery = new EndpointSliceDiscovery({
    service: 'api',
    port: 'http',
    kubeconfig,
    backoff: { initial: 20, max: 160 },
    log: (line) => lines.push(line),
    ...options,
  });
  t.after(async () => {
    await discovery.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    api,
    discovery,
    kubeconfig,
    lines,
    sets,
    subscribe: () => discovery.subscribe((set) => sets.push([...set])),
    last: () => hosts(sets.at(-1)),
  };
}

async function settle(ms = 100): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

test('lists the Service slices, then watches from the list resourceVersion: ADDED, MODIFIED and DELETED change the set', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.2'));
  h.api.apply({ ...apiSlice('other-a', '10.9.9.9'), service: 'other' });
  const listedAt = h.api.resourceVersion;
  h.subscribe();
  await until(() => h.sets.length === 1, 3000, 'first set');
  assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.2']);
  await until(() => h.api.openWatches === 1, 3000, 'a watch');
  const [list] = h.api.requestsOf('list');
  const [watch] = h.api.requestsOf('watch');
  assert.equal(list?.path, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
  assert.equal(list?.labelSelector, 'kubernetes.io/service-name=api');
  assert.equal(list?.authorization, 'Bearer fake-kube-api-token');
  assert.equal(watch?.resourceVersion, listedAt);
  assert.equal(watch?.allowWatchBookmarks, true);
  assert.equal(watch?.labelSelector, 'kubernetes.io/service-name=api');

  h.api.apply(apiSlice('api-b', '10.0.0.3'));
  await until(() => h.sets.length === 2, 3000, 'ADDED');
  assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  h.api.apply(apiSlice('api-a', '10.0.0.1', ['10.0.0.2', TERMINATING]));
  await until(() => h.sets.length === 3, 3000, 'MODIFIED to terminating');
  assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.2 draining', '10.0.0.3']);
  h.api.apply(apiSlice('api-a', '10.0.0.1', ['10.0.0.2', GONE]));
  await until(() => h.sets.length === 4, 3000, 'MODIFIED to not serving');
  assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.3']);
  h.api.delete('api-b');
  await until(() => h.sets.length === 5, 3000, 'DELETED');
  assert.deepEqual(h.last(), ['10.0.0.1']);

  assert.equal(h.api.requestsOf('list').length, 1);
  assert.equal(h.discovery.description, 'kubernetes endpointslices default/api port http (1 backend)');
  assert.ok(
    h.lines.includes('kubernetes default/api: 3 backends (1 draining) from 2 slices'),
    h.lines.join('\n'),
  );

  // A later subscriber gets the current set at once; one that left gets nothing more.
  const late: string[][] = [];
  const leave = h.discovery.subscribe((set) => late.push(hosts(set)));
  assert.deepEqual(late, [['10.0.0.1']]);
  leave();
  h.api.apply(apiSlice('api-c', '10.0.0.4'));
  await until(() => h.sets.length === 6, 3000, 'ADDED after unsubscribe');
  assert.equal(late.length, 1);
});

test('endpoints moving between slices change nothing, and events just before the server ends a watch are not lost', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.2'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  // The controller moves 10.0.0.2 to a new slice: it shows in both for a moment.
  h.api.apply(apiSlice('api-b', '10.0.0.2'));
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.api.apply(apiSlice('api-c', '10.0.0.3'));
  h.api.bookmark();
  h.api.endWatches();
  await until(() => h.api.requestsOf('watch').length === 2, 3000, 'the next watch');
  await until(() => h.sets.length >= 2, 3000, 'the new slice');
  await settle(50);
  assert.deepEqual(h.sets.map(hosts), [
    ['10.0.0.1', '10.0.0.2'],
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
  ]);
  assert.equal(h.api.requestsOf('watch')[1]?.resourceVersion, h.api.resourceVersion);
});

test('a bookmark moves the resourceVersion on: the watch after a normal end resumes from it', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  const listed = Number(h.api.resourceVersion);
  // Other objects of the cluster changed: only a bookmark tells this watch.
  h.api.advance(7);
  h.api.bookmark();
  await settle(50);
  h.api.endWatches();
  await until(() => h.api.requestsOf('watch').length === 2, 3000, 'the next watch');
  const watches = h.api.requestsOf('watch');
  assert.equal(watches[0]?.resourceVersion, String(listed));
  assert.equal(watches[1]?.resourceVersion, String(listed + 7));
  assert.equal(h.api.requestsOf('list').length, 1, 'no relist');
  assert.equal(h.sets.length, 1, 'a bookmark is not a slice');
  // A bookmark counts as progress: the watch ended normally and was resumed at once, without backoff.
  assert.ok(!h.lines.some((l) => l.includes('retrying')), h.lines.join('\n'));
});

test('a watch resumed after an outage gets the changes it missed from its resourceVersion, without a relist', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.2'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  const before = h.api.resourceVersion;
  await h.api.stop();
  h.api.apply(apiSlice('api-a', '10.0.0.1', ['10.0.0.2', TERMINATING]));
  h.api.apply(apiSlice('api-b', '10.0.0.3'));
  await until(() => h.lines.some((l) => l.includes('ECONNREFUSED')), 3000, 'a refused connection');
  // Refused connections keep the last good set.
  assert.equal(h.sets.length, 1);
  await h.api.resume();
  await until(() => h.last().length === 3, 3000, 'the missed changes');
  assert.deepEqual(h.sets.map(hosts).slice(1), [
    ['10.0.0.1', '10.0.0.2 draining'],
    ['10.0.0.1', '10.0.0.2 draining', '10.0.0.3'],
  ]);
  assert.equal(h.api.requestsOf('list').length, 1);
  assert.equal(h.api.requestsOf('watch').at(-1)?.resourceVersion, before);
  assert.ok(
    h.lines.some((l) =>
      /^kubernetes default\/api: watch failed \(fetch failed: connect ECONNREFUSED .*\); retrying in \d+ ms$/.test(
        l,
      ),
    ),
    h.lines.join('\n'),
  );
  assert.ok(
    h.lines.some((l) => /watching again after \d+ failed attempts?$/.test(l)),
    h.lines.join('\n'),
  );
});

for (const expiredAs of ['event', 'http'] as const) {
  test(`410 Gone (${expiredAs === 'event' ? 'an ERROR event' : 'HTTP 410'}) after an outage relists, deletions it never saw included`, async (t) => {
    const h = await harness(t);
    h.api.expiredAs = expiredAs;
    h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.2'));
    h.api.apply(apiSlice('api-b', '10.0.0.3'));
    h.subscribe();
    await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
    const before = h.api.resourceVersion;
    const watchesBefore = h.api.requestsOf('watch').length;
    await h.api.stop();
    h.api.delete('api-b');
    h.api.apply(apiSlice('api-c', '10.0.0.4'));
    h.api.compact();
    await h.api.resume();
    await until(() => h.sets.length === 2, 3000, 'the relisted set');
    assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    const lists = h.api.requestsOf('list');
    assert.equal(lists.length, 2);
    const refused = h.api.requestsOf('watch')[watchesBefore];
    assert.equal(refused?.resourceVersion, before);
    assert.equal(refused?.status, expiredAs === 'event' ? 200 : 410);
    const relist = h.lines.find((l) => l.includes('expired'));
    assert.match(
      relist ?? '',
      expiredAs === 'event'
        ? /watch from resourceVersion \d+ expired \(410 Expired: too old resource version: \d+ \(\d+\)\); relisting/
        : /watch from resourceVersion \d+ expired \(HTTP 410\); relisting/,
    );
    await until(() => h.api.openWatches === 1, 3000, 'watching again');
    assert.equal(h.api.requestsOf('watch').at(-1)?.resourceVersion, h.api.resourceVersion);
  });
}

test('an ERROR 410 in the middle of a healthy watch relists at once, without waiting for a backoff', async (t) => {
  const h = await harness(t, { backoff: { initial: 5000, max: 10_000 } });
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  h.api.apply(apiSlice('api-b', '10.0.0.2'));
  await until(() => h.sets.length === 2, 3000, 'ADDED');
  h.api.compact();
  const expired = performance.now();
  h.api.expireWatches();
  await until(() => h.api.requestsOf('list').length === 2, 3000, 'a relist');
  assert.ok(h.api.requestsOf('list')[1]!.at - expired < 1000);
  await until(() => h.api.openWatches === 1, 3000, 'watching again');
  assert.equal(h.sets.length, 2, 'the relist found the same set');
  assert.ok(!h.lines.some((l) => l.includes('retrying')), h.lines.join('\n'));
});

test('API errors back off exponentially with jitter and the last good set stays', async (t) => {
  const h = await harness(t, { backoff: { initial: 40, max: 160 } });
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  h.api.failNext('watch', 500, 4);
  h.api.bookmark();
  h.api.endWatches();
  await until(
    () => h.api.openWatches === 1 && h.api.requestsOf('watch').length === 6,
    5000,
    'watching again',
  );
  const watches = h.api.requestsOf('watch');
  assert.deepEqual(
    watches.map((w) => w.status),
    [200, 500, 500, 500, 500, 200],
  );
  // Equal jitter: attempt n waits between half and all of min(max, initial * 2^(n-1)).
  const bounds = [40, 80, 160, 160];
  for (let n = 0; n < bounds.length; n++) {
    const gap = watches[n + 2]!.at - watches[n + 1]!.at;
    assert.ok(gap >= bounds[n]! / 2 - 2, `wait ${n + 1} was ${gap} ms, below ${bounds[n]! / 2}`);
    assert.ok(gap <= bounds[n]! + 250, `wait ${n + 1} was ${gap} ms, far above ${bounds[n]}`);
  }
  const waits = h.lines
    .map((l) => /watch failed \(HTTP 500 Internal Server Error\); retrying in (\d+) ms$/.exec(l)?.[1])
    .filter((w) => w !== undefined)
    .map(Number);
  assert.equal(waits.length, 4);
  for (const [n, w] of waits.entries()) {
    assert.ok(w >= bounds[n]! / 2 && w <= bounds[n]!, `logged wait ${w} for attempt ${n + 1}`);
  }
  assert.equal(h.sets.length, 1);
  assert.equal(
    h.api.requestsOf('list').length,
    1,
    'errors resume from the resourceVersion; only 410 relists',
  );
  h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.5'));
  await until(() => h.sets.length === 2, 3000, 'a change after recovery');
  assert.deepEqual(h.last(), ['10.0.0.1', '10.0.0.5']);
});

test('a failing first list (403 with its message, then 500) is retried until it answers', async (t) => {
  const h = await harness(t);
  const forbidden =
    'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:default:balancer" cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "default"';
  h.api.failNext('list', 403, 1, forbidden);
  h.api.failNext('list', 500, 1);
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.subscribe();
  await until(() => h.sets.length === 1, 3000, 'first set');
  assert.deepEqual(h.last(), ['10.0.0.1']);
  assert.deepEqual(
    h.api.requestsOf('list').map((r) => r.status),
    [403, 500, 200],
  );
  assert.ok(
    h.lines.some((l) =>
      l.startsWith(`kubernetes default/api: list failed (HTTP 403: ${forbidden}); retrying in `),
    ),
    h.lines.join('\n'),
  );
  assert.ok(h.lines.some((l) => l.includes('list failed (HTTP 500: injected failure)')));
});

test('an API server down from the start: nothing delivered, no crash, the set arrives once it is up', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  await h.api.stop();
  h.subscribe();
  await until(() => h.lines.filter((l) => l.includes('list failed')).length >= 3, 3000, 'three failed lists');
  assert.equal(h.sets.length, 0);
  assert.match(h.discovery.description, /\(not listed yet\)$/);
  await h.api.resume();
  await until(() => h.sets.length === 1, 3000, 'first set');
  assert.deepEqual(h.last(), ['10.0.0.1']);
});

test('slices the port cannot be chosen for are logged once and left out', async (t) => {
  const h = await harness(t);
  h.api.apply({ ...apiSlice('api-a', '10.0.0.1'), ports: [{ name: 'grpc', port: 9000 }] });
  h.api.apply(apiSlice('api-b', '10.0.0.2'));
  h.subscribe();
  await until(() => h.sets.length === 1, 3000, 'first set');
  assert.deepEqual(h.last(), ['10.0.0.2']);
  h.api.apply(apiSlice('api-b', '10.0.0.2', '10.0.0.3'));
  await until(() => h.sets.length === 2, 3000, 'a change');
  const skipped = h.lines.filter((l) => l.includes('api-a'));
  assert.deepEqual(skipped, ['kubernetes default/api: slice api-a: no port named "http" (it has grpc 9000)']);
});

test('close() ends the watch at once, and a close during a backoff wait does not wait for it', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  h.subscribe();
  await until(() => h.sets.length === 1 && h.api.openWatches === 1, 3000, 'first set and a watch');
  await h.discovery.close();
  await until(() => h.api.openWatches === 0, 1000, 'the watch closed');
  const requests = h.api.requests.length;
  h.api.apply(apiSlice('api-a', '10.0.0.1', '10.0.0.2'));
  await settle(150);
  assert.equal(h.api.requests.length, requests);
  assert.equal(h.sets.length, 1);

  const slow = await harness(t, { backoff: { initial: 10_000, max: 20_000 } });
  slow.api.failNext('list', 500);
  slow.subscribe();
  await until(() => slow.lines.some((l) => l.includes('retrying in')), 3000, 'a backoff wait');
  const started = performance.now();
  await slow.discovery.close();
  assert.ok(performance.now() - started < 500, 'close waited for the backoff');
});

test('a process that closes its discovery exits on its own: no watch, socket or timer left behind', async (t) => {
  const h = await harness(t);
  h.api.apply(apiSlice('api-a', '10.0.0.1'));
  const module = pathToFileURL(
    join(import.meta.dirname, '../../src/discover/endpoint-slice-discovery.ts'),
  ).href;
  const script = `
    import { EndpointSliceDiscovery } from ${JSON.stringify(module)};
    const discovery = new EndpointSliceDiscovery({ service: 'api', kubeconfig: ${JSON.stringify(h.kubeconfig)} });
    discovery.subscribe(async (set) => {
      console.log(JSON.stringify(set));
      // Give the watch time to open, then close with it open.
      setTimeout(() => discovery.close().then(() => console.log('closed')), 200);
    });
  `;
  const child = spawn(
    process.execPath,
    ['--conditions=readykit-source', '--input-type=module', '-e', script],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  let closedAt = Number.NaN;
  child.stdout.on('data', (chunk) => {
    out += chunk;
    if (out.endsWith('closed\n')) closedAt = performance.now();
  });
  child.stderr.on('data', (chunk) => (err += chunk));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 8000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve(status);
    });
  });
  const lingered = performance.now() - closedAt;
  t.diagnostic(`the child exited ${Math.round(lingered)} ms after close() resolved`);
  assert.equal(code, 0, `exit ${code}; stderr: ${err}`);
  // Exit follows close() at once: an idle keep-alive socket or a timer would hold it for seconds.
  assert.ok(lingered < 1000, `exited ${Math.round(lingered)} ms after close()`);
  assert.equal(out, `${JSON.stringify([{ url: 'http://10.0.0.1:8080', weight: 1 }])}\nclosed\n`);
  assert.ok(h.api.requestsOf('watch').length >= 1, 'the child watched before closing');
});
