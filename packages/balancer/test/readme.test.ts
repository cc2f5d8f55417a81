import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { readmeSection } from '../../../test/support/readme-section.ts';
import { Balancer } from '../src/balancer.ts';
import { parseConfigText } from '../src/cli/config-file.ts';
import { formatDefault } from '../src/cli/help-text.ts';
import { BalancerErrorCodes } from '../src/errors.ts';
import { OPTION_TABLE } from '../src/option-table.ts';
import { resolveBalancerConfig } from '../src/options.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function section(title: string): string {
  return readmeSection(readme, title);
}

test('the options table lists every flag with its config key and default, and nothing else', () => {
  const rows = [...section('Options').matchAll(/^\| `--([\w-]+)` \| `([\w.]+)` \| ([^|]+) \| (.*) \|$/gm)];
  assert.deepEqual(
    rows.map((m) => [m[1], m[2], m[3]!.trim(), m[4]!.replaceAll('\\|', '|')]),
    OPTION_TABLE.map((spec) => [spec.flag, spec.key, formatDefault(spec), spec.help]),
  );
});

test('every error code is documented', () => {
  for (const code of Object.values(BalancerErrorCodes)) assert.ok(readme.includes(`\`${code}\``), code);
});

test('the metrics table lists every readykit_balancer_* metric, and nothing else', async () => {
  const balancer = new Balancer({ listen: '127.0.0.1:0', admin: '127.0.0.1:0' });
  try {
    const registered = (await balancer.metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((name) => name.startsWith('readykit_balancer_'));
    const documented = [...section('Metrics').matchAll(/^\| `(readykit_balancer_\w+)` \|/gm)].map(
      (m) => m[1],
    );
    assert.deepEqual([...documented].sort(), [...registered].sort());
  } finally {
    await balancer.close();
  }
});

test('the YAML example is a valid configuration', () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(yaml, 'README has a YAML example');
  const config = resolveBalancerConfig(parseConfigText(yaml, 'README'));
  assert.equal(config.backends.length, 2);
  assert.equal(config.backends[1]!.weight, 2);
  assert.equal(config.healthCheck.interval, 2000);
});

test('the TypeScript example runs', () => {
  const code = /```ts\n([\s\S]*?)```/.exec(section('Programmatic use'))?.[1];
  assert.ok(code, 'README has a TypeScript example');
  const run = spawnSync(
    process.execPath,
    ['--conditions=readykit-source', '--input-type=module-typescript', '-e', code],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /proxy on http:\/\/127\.0\.0\.1:\d+, admin on http:\/\/127\.0\.0\.1:\d+/);
});

interface Manifest {
  kind: string;
  metadata: { name: string; namespace: string };
  rules?: unknown;
  roleRef?: unknown;
  subjects?: unknown;
}

test('the RBAC example grants exactly what EndpointSlice discovery asks the API server for', () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readmeSection(readme, 'Kubernetes EndpointSlices'))?.[1];
  assert.ok(yaml, 'the Kubernetes section has a YAML example');
  const docs = parseAllDocuments(yaml).map((doc) => doc.toJS() as Manifest);
  assert.deepEqual(
    docs.map((doc) => doc.kind),
    ['ServiceAccount', 'Role', 'RoleBinding'],
  );
  const [account, role, binding] = docs;
  assert.deepEqual(role!.rules, [
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
  ]);
  assert.deepEqual(binding!.roleRef, {
    apiGroup: 'rbac.authorization.k8s.io',
    kind: 'Role',
    name: role!.metadata.name,
  });
  assert.deepEqual(binding!.subjects, [
    { kind: 'ServiceAccount', name: account!.metadata.name, namespace: account!.metadata.namespace },
  ]);
  // The discovery's requests use that group and resource, and nothing else.
  const source = readFileSync(
    new URL('../src/discover/endpoint-slice-discovery.ts', import.meta.url),
    'utf8',
  );
  const paths = [...source.matchAll(/`(\/apis?\/[^`]+)`/g)].map((m) => m[1]);
  assert.deepEqual(paths, [`/apis/discovery.k8s.io/v1/namespaces/\${namespace}/endpointslices`]);
});

test('the dispatcher example runs and spreads its calls', () => {
  const code = /```ts\n([\s\S]*?)```/.exec(section('Client-side balancing (the dispatcher)'))?.[1];
  assert.ok(code, 'the dispatcher section has a TypeScript example');
  const run = spawnSync(
    process.execPath,
    ['--conditions=readykit-source', '--input-type=module-typescript', '-e', code],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /answered by [23] instances/);
});
