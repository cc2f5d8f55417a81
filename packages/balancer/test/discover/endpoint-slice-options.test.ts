import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { EndpointSliceDiscovery } from '../../src/discover/endpoint-slice-discovery.ts';
import type { EndpointSliceDiscoveryOptions } from '../../src/discover/endpoint-slice-options.ts';
import { resolveEndpointSliceOptions } from '../../src/discover/endpoint-slice-options.ts';

const KUBECONFIG = (namespace?: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{ name: c, cluster: { server: "https://10.96.0.1:443" } }]',
    'users: [{ name: u, user: { token: t } }]',
    `contexts: [{ name: x, context: { cluster: c, user: u${namespace === undefined ? '' : `, namespace: ${namespace}`} } }]`,
    'current-context: x',
    '',
  ].join('\n');

function kubeConfig(namespace?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(KUBECONFIG(namespace));
  return kc;
}

function refused(options: unknown, key: string): void {
  assert.throws(
    () => new EndpointSliceDiscovery(options as EndpointSliceDiscoveryOptions),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'RK_ERR_INVALID_CONFIG');
      assert.ok(
        error.message.startsWith(`${key} must be`) || error.message.startsWith(`${key}:`),
        error.message,
      );
      return true;
    },
  );
}

test('invalid options are refused at construction with the key named', () => {
  const kc = kubeConfig();
  refused({ kubeConfig: kc }, 'kubernetes.service');
  for (const service of ['', 'API', 'a/b/c', '9api', 'ns/', 'Shop/api', 'x'.repeat(64), 42]) {
    refused({ service, kubeConfig: kc }, 'kubernetes.service');
  }
  for (const port of [0, 65_536, 1.5, '', 'HTTP', 'http_alt', '-http', { name: 'http' }]) {
    refused({ service: 'api', port, kubeConfig: kc }, 'kubernetes.port');
  }
  refused({ service: 'api', scheme: 'ftp', kubeConfig: kc }, 'kubernetes.scheme');
  refused({ service: 'api', prot: 'http', kubeConfig: kc }, 'kubernetes.prot');
  refused({ service: 'api', log: 'stderr', kubeConfig: kc }, 'kubernetes.log');
  refused({ service: 'api', backoff: { initial: 0 }, kubeConfig: kc }, 'kubernetes.backoff.initial');
  refused(
    { service: 'api', backoff: { initial: '1s', max: '500ms' }, kubeConfig: kc },
    'kubernetes.backoff.max',
  );
  refused({ service: 'api', backoff: { jitter: 1 }, kubeConfig: kc }, 'kubernetes.backoff.jitter');
  refused({ service: 'api', backoff: 5, kubeConfig: kc }, 'kubernetes.backoff');
  refused({ service: 'api', kubeConfig: {} }, 'kubernetes.kubeConfig');
  refused({ service: 'api', kubeConfig: kc, kubeconfig: '/tmp/x' }, 'kubernetes.kubeconfig');
  refused({ service: 'api', kubeconfig: '/nonexistent/kubeconfig' }, 'kubernetes.kubeconfig');
  refused({ service: 'api', kubeconfig: '' }, 'kubernetes.kubeconfig');
  refused(null, 'kubernetes');
});

test('ports, schemes and backoff durations are read into their typed forms', () => {
  const kc = kubeConfig();
  const read = (options: Omit<EndpointSliceDiscoveryOptions, 'kubeConfig'>) =>
    resolveEndpointSliceOptions({ ...options, kubeConfig: kc });
  assert.equal(read({ service: 'api', port: '8080' }).port, 8080);
  assert.equal(read({ service: 'api', port: 8080 }).port, 8080);
  assert.equal(read({ service: 'api', port: 'http-alt' }).port, 'http-alt');
  assert.equal(read({ service: 'api' }).port, undefined);
  assert.equal(read({ service: 'api' }).scheme, 'http');
  assert.equal(read({ service: 'api', scheme: 'https' }).scheme, 'https');
  assert.deepEqual(read({ service: 'api' }).backoff, { initialDelay: 500, maxDelay: 30_000 });
  assert.deepEqual(read({ service: 'api', backoff: { initial: '250ms', max: '10s' } }).backoff, {
    initialDelay: 250,
    maxDelay: 10_000,
  });
  // A larger initial delay lifts the default maximum with it rather than being refused.
  assert.deepEqual(read({ service: 'api', backoff: { initial: '45s' } }).backoff, {
    initialDelay: 45_000,
    maxDelay: 45_000,
  });
});

test('the namespace is the one given, else the kubeconfig context one, else default', () => {
  assert.equal(
    resolveEndpointSliceOptions({ service: 'shop/api', kubeConfig: kubeConfig('team-a') }).namespace,
    'shop',
  );
  assert.equal(
    resolveEndpointSliceOptions({ service: 'api', kubeConfig: kubeConfig('team-a') }).namespace,
    'team-a',
  );
  assert.equal(
    resolveEndpointSliceOptions({ service: 'api', kubeConfig: kubeConfig() }).namespace,
    'default',
  );
  const discovery = new EndpointSliceDiscovery({
    service: 'api',
    port: 'http',
    kubeConfig: kubeConfig('team-a'),
  });
  assert.equal(discovery.description, 'kubernetes endpointslices team-a/api port http (not listed yet)');
});

test('the kubeconfig comes from the path given, else KUBECONFIG, and its absence everywhere is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rk-kubeconfig-'));
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  t.after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'config');
  await writeFile(file, KUBECONFIG('from-file'));
  assert.equal(resolveEndpointSliceOptions({ service: 'api', kubeconfig: file }).namespace, 'from-file');

  process.env.KUBECONFIG = file;
  const settings = resolveEndpointSliceOptions({ service: 'api' });
  assert.equal(settings.namespace, 'from-file');
  assert.equal(settings.kubeConfig.getCurrentCluster()?.server, 'https://10.96.0.1:443');

  // No KUBECONFIG, a HOME without .kube/config and no service account token.
  delete process.env.KUBECONFIG;
  process.env.HOME = dir;
  if (existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
    t.diagnostic('running in a pod: the in-cluster fallback cannot be absent here');
  } else {
    assert.throws(
      () => resolveEndpointSliceOptions({ service: 'api' }),
      /^BalancerError: kubernetes\.kubeconfig: no Kubernetes configuration found/,
    );
  }

  await writeFile(file, 'clusters: [');
  assert.throws(
    () => resolveEndpointSliceOptions({ service: 'api', kubeconfig: file }),
    /kubernetes\.kubeconfig: cannot load/,
  );
  await writeFile(file, 'apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n');
  assert.throws(
    () => resolveEndpointSliceOptions({ service: 'api', kubeconfig: file }),
    /kubernetes\.kubeconfig: .* has no current context with a cluster server URL/,
  );
});
