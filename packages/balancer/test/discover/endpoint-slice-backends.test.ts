import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { endpointSliceBackends } from '../../src/discover/endpoint-slice-backends.ts';

interface Conditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** A list item as the API server returns it (no kind/apiVersion in list items). */
function slice(
  name: string,
  endpoints: ReadonlyArray<{ address: string | string[]; conditions?: Conditions }>,
  ports: unknown = [{ name: 'http', protocol: 'TCP', port: 8080 }],
  addressType = 'IPv4',
): Record<string, unknown> {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'api' },
      resourceVersion: '4711',
      generation: 1,
    },
    addressType,
    endpoints: endpoints.map((e) => ({
      addresses: Array.isArray(e.address) ? e.address : [e.address],
      conditions: e.conditions ?? {},
      nodeName: 'node-1',
      targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${name}` },
    })),
    ports,
  };
}

test('conditions follow the API nil rules: ready nil is true, serving nil is ready, terminating nil is false', () => {
  const cases: Array<[Conditions, 'backend' | 'draining' | 'absent']> = [
    [{}, 'backend'],
    [{ ready: true }, 'backend'],
    [{ ready: true, serving: true, terminating: false }, 'backend'],
    // publishNotReadyAddresses: ready stays true while terminating; readiness was overridden on purpose.
    [{ ready: true, serving: true, terminating: true }, 'backend'],
    [{ ready: false }, 'absent'],
    [{ ready: false, serving: true }, 'absent'],
    [{ ready: false, terminating: true }, 'absent'],
    [{ ready: false, serving: true, terminating: true }, 'draining'],
    [{ serving: true, terminating: true, ready: false }, 'draining'],
    [{ ready: false, serving: false, terminating: true }, 'absent'],
    [{ serving: false, terminating: true }, 'backend'],
  ];
  for (const [conditions, expected] of cases) {
    const { backends, skipped } = endpointSliceBackends(
      [slice('a', [{ address: '10.0.0.7', conditions }])],
      'http',
      'http',
    );
    const got = backends.length === 0 ? 'absent' : backends[0]!.draining === true ? 'draining' : 'backend';
    assert.equal(got, expected, JSON.stringify(conditions));
    assert.deepEqual(skipped, []);
    if (got === 'backend') assert.deepEqual(backends, [{ url: 'http://10.0.0.7:8080', weight: 1 }]);
    if (got === 'draining')
      assert.deepEqual(backends, [{ url: 'http://10.0.0.7:8080', weight: 1, draining: true }]);
  }
});

test('several slices of a Service merge into one sorted set; an address in two slices counts once, ready winning', () => {
  const terminating = { ready: false, serving: true, terminating: true };
  const a = slice('api-a', [{ address: '10.0.0.9' }, { address: '10.0.0.2', conditions: terminating }]);
  const b = slice('api-b', [{ address: '10.0.0.2' }, { address: '10.0.0.5', conditions: terminating }]);
  const c = slice('api-c', [{ address: '10.0.0.5', conditions: terminating }]);
  const expected = [
    { url: 'http://10.0.0.2:8080', weight: 1 },
    { url: 'http://10.0.0.5:8080', weight: 1, draining: true },
    { url: 'http://10.0.0.9:8080', weight: 1 },
  ];
  assert.deepEqual(endpointSliceBackends([a, b, c], 'http', 'http').backends, expected);
  assert.deepEqual(endpointSliceBackends([c, b, a], 'http', 'http').backends, expected);
});

test('the port is chosen by name, by number, or is the only one; otherwise the slice is left out with a reason', () => {
  const twoPorts = [
    { name: 'http', protocol: 'TCP', port: 8080 },
    { name: 'metrics', protocol: 'TCP', port: 9090 },
  ];
  const s = slice('api-x7k2p', [{ address: '10.0.0.7' }], twoPorts);
  assert.deepEqual(endpointSliceBackends([s], 'metrics', 'http').backends, [
    { url: 'http://10.0.0.7:9090', weight: 1 },
  ]);
  assert.deepEqual(endpointSliceBackends([s], 8080, 'http').backends, [
    { url: 'http://10.0.0.7:8080', weight: 1 },
  ]);

  const none = endpointSliceBackends([s], undefined, 'http');
  assert.deepEqual(none.backends, []);
  assert.deepEqual(none.skipped, [
    'slice api-x7k2p: 2 ports (http 8080, metrics 9090): choose one with kubernetes.port',
  ]);
  assert.deepEqual(endpointSliceBackends([s], 'grpc', 'http').skipped, [
    'slice api-x7k2p: no port named "grpc" (it has http 8080, metrics 9090)',
  ]);
  assert.deepEqual(endpointSliceBackends([s], 80, 'http').skipped, [
    'slice api-x7k2p: no port 80 (it has http 8080, metrics 9090)',
  ]);

  // The unnamed single port of a Service has the name "".
  const unnamed = slice('api-u', [{ address: '10.0.0.7' }], [{ name: '', protocol: 'TCP', port: 3000 }]);
  assert.deepEqual(endpointSliceBackends([unnamed], undefined, 'http').backends, [
    { url: 'http://10.0.0.7:3000', weight: 1 },
  ]);
  // Protocol absent means TCP; UDP cannot carry HTTP.
  const noProtocol = slice('api-p', [{ address: '10.0.0.7' }], [{ name: 'http', port: 3000 }]);
  assert.equal(endpointSliceBackends([noProtocol], 'http', 'http').backends.length, 1);
  const udp = slice('api-dns', [{ address: '10.0.0.7' }], [{ name: 'dns', protocol: 'UDP', port: 53 }]);
  assert.deepEqual(endpointSliceBackends([udp], undefined, 'http').skipped, [
    'slice api-dns: port dns 53 is UDP, not TCP',
  ]);
});

test('IPv6 addresses are bracketed and compressed; the first address is used; https drops its default port', () => {
  const v6 = slice('api-v6', [{ address: ['fd00:0:0:0:0:0:0:7', 'fd00::8'] }], undefined, 'IPv6');
  assert.deepEqual(endpointSliceBackends([v6], 'http', 'http').backends, [
    { url: 'http://[fd00::7]:8080', weight: 1 },
  ]);
  const tls = slice('api-tls', [{ address: '10.0.0.7' }], [{ name: 'https', protocol: 'TCP', port: 443 }]);
  assert.deepEqual(endpointSliceBackends([tls], undefined, 'https').backends, [
    { url: 'https://10.0.0.7', weight: 1 },
  ]);
});

test('FQDN slices, addresses of the wrong family and placeholders are left out without throwing', () => {
  const fqdn = slice('api-f', [{ address: 'api.example.com' }], undefined, 'FQDN');
  const wrongFamily = slice('api-w', [{ address: 'fd00::1' }, { address: '10.0.0.1' }, { address: [] }]);
  const placeholder = { metadata: { name: 'api-empty' }, addressType: 'IPv4', endpoints: null, ports: null };
  const result = endpointSliceBackends(
    [
      fqdn,
      wrongFamily,
      placeholder,
      null,
      'garbage',
      { endpoints: 'x' },
      { endpoints: [{}], addressType: 'IPv4' },
    ],
    'http',
    'http',
  );
  assert.deepEqual(result.backends, [{ url: 'http://10.0.0.1:8080', weight: 1 }]);
  assert.deepEqual(result.skipped, [
    'slice api-f: addressType FQDN is not supported (IPv4 and IPv6 are)',
    'slice api-w: 2 endpoints left out (address "fd00::1" is not an IPv4 address)',
    'slice (unnamed): no ports',
  ]);
});

test('property: every backend comes from a ready or serving-and-terminating endpoint, once, sorted', () => {
  const flag = fc.option(fc.boolean(), { nil: undefined });
  const endpoint = fc.record({
    address: fc.integer({ min: 1, max: 12 }).map((n) => `10.0.0.${n}`),
    conditions: fc.record({ ready: flag, serving: flag, terminating: flag }, { requiredKeys: [] }),
  });
  const slices = fc.array(fc.array(endpoint, { maxLength: 6 }), { maxLength: 4 });
  fc.assert(
    fc.property(slices, (lists) => {
      const objects = lists.map((endpoints, i) => slice(`api-${i}`, endpoints));
      const { backends } = endpointSliceBackends(objects, 'http', 'http');
      const urls = backends.map((b) => b.url);
      assert.deepEqual(urls, [...new Set(urls)].sort());
      for (const backend of backends) {
        const sources = lists.flat().filter((e) => `http://${e.address}:8080` === backend.url);
        const ready = sources.some((e) => e.conditions.ready !== false);
        const draining = sources.some((e) => {
          const serving = e.conditions.serving ?? e.conditions.ready ?? true;
          return e.conditions.ready === false && serving && e.conditions.terminating === true;
        });
        assert.ok(ready || draining, backend.url);
        assert.equal(backend.draining === true, !ready);
      }
      const servingCount = new Set(
        lists
          .flat()
          .filter((e) => {
            const ready = e.conditions.ready ?? true;
            const serving = e.conditions.serving ?? ready;
            return ready || (serving && (e.conditions.terminating ?? false));
          })
          .map((e) => e.address),
      ).size;
      assert.equal(backends.length, servingCount);
    }),
    { numRuns: 300 },
  );
});
