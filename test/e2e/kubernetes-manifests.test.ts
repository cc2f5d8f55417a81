import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Balancer, OPTION_TABLE, resolveBalancerConfig } from '@readykit/balancer';
import { createServiceApp } from '@readykit/example-service';
import { DEFAULT_KUBERNETES_SHUTDOWN_DELAY, type Health } from '@readykit/health';
import { readConfig } from '../../examples/service/src/config.ts';
import { type BalancerProcess, startBalancer } from '../support/balancer-process.ts';
import { schemaProblems } from '../support/kube-schema.ts';
import {
  adapterRules,
  adapterValuesText,
  type Container,
  containerEnv,
  type Deployment,
  EXAMPLES_DIR,
  expandArgs,
  find,
  kedaTriggers,
  OVERLAYS,
  type Probe,
  renderExample,
  type ScaledObject,
} from '../support/kubernetes-examples.ts';
import {
  applyJsonPatch,
  hasKubectl,
  type KubeObject,
  objectId,
  renderingDifference,
  renderKustomization,
  renderWithKubectl,
} from '../support/kustomize.ts';
import { expandAdapterQuery, metricNames, outermostCall, selectors } from '../support/promql.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// The manifests of examples/kubernetes, rendered as users apply them (kubectl kustomize where
// kubectl exists, else the tests' own renderer), validated against the Kubernetes and KEDA
// schemas, then checked against what no schema knows: the kit's own defaults, read from its code.

const SERVICE = 'example-service';
const BALANCER = 'readykit-balancer';

function serviceDeployment(overlay: (typeof OVERLAYS)[number] = 'base'): Deployment {
  return find<Deployment>(renderExample(overlay).objects, 'Deployment', SERVICE);
}

function only<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `expected exactly one ${what}`);
  return items[0]!;
}

/** The container port a probe or Service names, by name or number. */
function containerPort(container: Container, port: string | number): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((p) => p.name === port);
  assert.ok(found, `container ${container.name} has no port named ${port}`);
  return found.containerPort;
}

/** Runs `build` as if inside a pod (KUBERNETES_SERVICE_HOST set), so the kit picks its Kubernetes defaults. */
function insideKubernetes<T>(build: () => T): T {
  const saved = process.env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
  try {
    return build();
  } finally {
    if (saved === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    else process.env.KUBERNETES_SERVICE_HOST = saved;
  }
}

/** The shutdown budget comment of a Deployment: the numbers it adds up, its total and the grace period. */
function budgetComment(file: string): Promise<{ terms: number[]; total: number; grace: number }> {
  return readFile(join(EXAMPLES_DIR, file), 'utf8').then((text) => {
    const block = /# Shutdown budget[^\n]*\n((?:\s*#[^\n]*\n)+)/.exec(text);
    assert.ok(block, `${file} has a shutdown budget comment`);
    const terms = [...block[1]!.matchAll(/^\s*#\s+(?:\+\s+)?(\d+)\s+\S/gm)].map((m) => Number(m[1]));
    const total = /#\s+=\s+(\d+)\s+<=\s+(\d+)/.exec(block[1]!);
    assert.ok(total, `${file}: the comment ends with "= total <= grace"`);
    return { terms, total: Number(total[1]), grace: Number(total[2]) };
  });
}

describe('rendering', () => {
  test('every overlay renders; where kubectl exists, the test renderer gives exactly what kubectl kustomize gives', (t) => {
    const kubectl = hasKubectl();
    if (!kubectl) t.diagnostic('kubectl is not installed: overlays are rendered by the test renderer only');
    for (const overlay of OVERLAYS) {
      const dir = join(EXAMPLES_DIR, overlay);
      const own = renderKustomization(dir);
      assert.ok(own.length >= 4, `${overlay} renders objects`);
      for (const o of own)
        assert.equal(o.metadata.namespace, 'readykit', `${objectId(o)} gets the namespace`);
      for (const o of own) assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'readykit');
      if (!kubectl) continue;
      const byKubectl = renderWithKubectl(dir)!;
      assert.equal(renderingDifference(own, byKubectl), undefined, `${overlay}: test renderer vs kubectl`);
      assert.equal(renderingDifference(byKubectl, own), undefined, `${overlay}: kubectl vs test renderer`);
      t.diagnostic(`${overlay}: ${own.length} objects, identical to kubectl kustomize`);
    }
  });

  test('the test renderer: JSON 6902 operations, RoleBinding subjects, and refusal of what it does not support', async () => {
    const doc = { spec: { replicas: 2, list: ['a', 'b'] }, metadata: { 'a/b': 1 } };
    assert.deepEqual(
      applyJsonPatch(doc, [
        { op: 'remove', path: '/spec/replicas' },
        { op: 'add', path: '/spec/list/-', value: 'c' },
        { op: 'add', path: '/spec/list/0', value: 'z' },
        { op: 'replace', path: '/metadata/a~1b', value: 2 },
        { op: 'test', path: '/spec/list/1', value: 'a' },
      ]),
      { spec: { list: ['z', 'a', 'b', 'c'] }, metadata: { 'a/b': 2 } },
    );
    assert.equal(doc.spec.replicas, 2, 'the input is not modified');
    assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/spec/nothing' }]), /does not exist/);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 3 }]), /test/);

    const dir = await mkdtemp(join(tmpdir(), 'rk-kustomize-'));
    try {
      // Subjects follow the ServiceAccounts of the build (a, c), not others (b), nor other namespaces.
      await writeFile(
        join(dir, 'rb.yaml'),
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n' +
          'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n' +
          'subjects: [{kind: ServiceAccount, name: a}, {kind: ServiceAccount, name: b},\n' +
          '  {kind: ServiceAccount, name: c, namespace: default}, {kind: ServiceAccount, name: a, namespace: other}]\n' +
          '---\n' +
          'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n' +
          'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: c}\n',
      );
      await writeFile(join(dir, 'kustomization.yaml'), 'namespace: ns\nresources: [rb.yaml]\n');
      const rb = renderKustomization(dir).find((o) => o.kind === 'RoleBinding') as KubeObject & {
        subjects: Array<{ namespace?: string }>;
      };
      assert.deepEqual(
        rb.subjects.map((s) => s.namespace),
        ['ns', undefined, 'ns', 'other'],
      );
      if (hasKubectl())
        assert.equal(renderingDifference(renderKustomization(dir), renderWithKubectl(dir)!), undefined);
      await writeFile(join(dir, 'kustomization.yaml'), 'resources: [rb.yaml]\ncommonLabels: {a: b}\n');
      assert.throws(() => renderKustomization(dir), /"commonLabels" is not supported/);
      await writeFile(
        join(dir, 'kustomization.yaml'),
        'resources: [rb.yaml]\npatches:\n  - target: {kind: RoleBinding}\n    patch: "metadata: {labels: {a: b}}"\n',
      );
      assert.throws(() => renderKustomization(dir), /only JSON 6902 patches/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('schemas', () => {
  test('every rendered object validates against the Kubernetes or KEDA schema, unknown fields refused', async (t) => {
    const kinds = new Set<string>();
    for (const overlay of OVERLAYS) {
      for (const o of renderExample(overlay).objects) {
        if (o.apiVersion.startsWith('monitoring.coreos.com/')) continue; // checked by hand below
        assert.deepEqual(await schemaProblems(o), [], `${overlay}: ${objectId(o)}`);
        kinds.add(`${o.apiVersion} ${o.kind}`);
      }
    }
    t.diagnostic(`validated kinds: ${[...kinds].sort().join(', ')}`);
    assert.ok(
      kinds.has('keda.sh/v1alpha1 ScaledObject') && kinds.has('autoscaling/v2 HorizontalPodAutoscaler'),
    );
  });

  test('the schema check catches a misspelt field, a wrong type and a KEDA value that is not a string', async () => {
    const deployment = structuredClone(serviceDeployment()) as Deployment & Record<string, unknown>;
    const container = deployment.spec.template.spec.containers[0] as Container & Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    (container.ports![0] as Record<string, unknown>).containerPort = '3000';
    const problems = await schemaProblems(deployment);
    assert.ok(
      problems.some((p) => /readinesProbe is not a field/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /containerPort must be integer/.test(p)),
      problems.join('\n'),
    );
    const scaled = structuredClone(
      find<ScaledObject>(renderExample('keda').objects, 'ScaledObject', SERVICE),
    );
    scaled.spec.triggers[0]!.metadata.threshold = 10;
    assert.match((await schemaProblems(scaled)).join('\n'), /threshold must be string/);
  });

  test('ServiceMonitor and PodMonitor (no schema package installed): only known fields, selectors and ports that exist', () => {
    const objects = renderExample('balancer').objects;
    const serviceMonitor = find<KubeObject & { spec: unknown }>(objects, 'ServiceMonitor', SERVICE);
    const service = find<
      KubeObject & { spec: { ports: Array<{ name: string }>; selector: Record<string, string> } }
    >(objects, 'Service', SERVICE);
    const sm = serviceMonitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: Array<{ port: string; path: string; interval: string }>;
    };
    assert.deepEqual(Object.keys(sm).sort(), ['endpoints', 'selector']);
    for (const [k, v] of Object.entries(sm.selector.matchLabels))
      assert.equal(service.metadata.labels?.[k], v);
    const endpoint = only(sm.endpoints, 'ServiceMonitor endpoint');
    assert.deepEqual(Object.keys(endpoint).sort(), ['interval', 'path', 'port']);
    assert.ok(
      service.spec.ports.some((p) => p.name === endpoint.port),
      'the endpoint names a Service port',
    );
    assert.match(endpoint.interval, /^\d+s$/);

    const podMonitor = find<KubeObject & { spec: unknown }>(objects, 'PodMonitor', BALANCER);
    const pm = podMonitor.spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: Array<{ port: string; path: string; interval: string }>;
    };
    assert.deepEqual(Object.keys(pm).sort(), ['podMetricsEndpoints', 'selector']);
    const balancer = find<Deployment>(objects, 'Deployment', BALANCER);
    for (const [k, v] of Object.entries(pm.selector.matchLabels)) {
      assert.equal(balancer.spec.template.metadata.labels[k], v, 'the PodMonitor selects the balancer pods');
    }
    const pmEndpoint = only(pm.podMetricsEndpoints, 'PodMonitor endpoint');
    assert.deepEqual(Object.keys(pmEndpoint).sort(), ['interval', 'path', 'port']);
    assert.ok(balancer.spec.template.spec.containers[0]!.ports!.some((p) => p.name === pmEndpoint.port));
    assert.equal(pmEndpoint.path, '/metrics');
  });
});

describe('the example service Deployment against the kit', () => {
  let health: Health;
  let metricsPath: string;
  let env: Record<string, string>;
  let container: Container;
  let deployment: Deployment;
  let serviceConfig: ReturnType<typeof readConfig>;

  before(async () => {
    deployment = serviceDeployment();
    container = only(deployment.spec.template.spec.containers, 'container');
    env = containerEnv(container, deployment.metadata.namespace!);
    serviceConfig = readConfig(env);
    // The example service itself, configured from the manifest's environment, in a pod.
    const { kit } = insideKubernetes(() => createServiceApp(serviceConfig, () => {}));
    health = kit.health;
    metricsPath = kit.metrics!.options.path;
    await kit.close();
  });

  test('probe paths are the kit’s, on the port the service listens on', () => {
    const { liveness, readiness } = health.options.paths;
    const port = containerPort(container, 'http');
    assert.equal(
      port,
      serviceConfig.port,
      'containerPort "http" is the port PORT makes the service listen on',
    );
    const probes: Array<[string, Probe | undefined, readonly string[]]> = [
      ['readinessProbe', container.readinessProbe, readiness],
      ['livenessProbe', container.livenessProbe, liveness],
      ['startupProbe', container.startupProbe, liveness],
    ];
    for (const [name, probe, paths] of probes) {
      assert.ok(probe?.httpGet, `${name} is an HTTP probe`);
      assert.ok(paths.includes(probe.httpGet.path), `${name} path ${probe.httpGet.path} is one of ${paths}`);
      assert.equal(containerPort(container, probe.httpGet.port), serviceConfig.port, `${name} port`);
      // The kit answers within its check timeout; the kubelet waits timeoutSeconds.
      assert.ok((probe.timeoutSeconds ?? 1) * 1000 > health.options.checkTimeout, `${name} timeout`);
    }
    assert.equal(container.readinessProbe!.periodSeconds, 5);
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(Number(annotations['prometheus.io/port']), serviceConfig.port);
    assert.equal(annotations['prometheus.io/path'], metricsPath);
  });

  test('liveness: one event-loop stall can never fail three probes in a row', () => {
    const probe = container.livenessProbe!;
    assert.ok(health.options.eventLoop !== false, 'the example keeps the event loop check');
    const { threshold, window } = health.options.eventLoop;
    const failureThreshold = probe.failureThreshold ?? 3;
    // A stall fails the check for `window` after it ends; probes `periodSeconds` apart.
    assert.ok(
      (probe.periodSeconds ?? 10) * 1000 * (failureThreshold - 1) > window + threshold,
      `liveness ${probe.periodSeconds} s × (${failureThreshold} - 1) must outlast the ${window} ms window`,
    );
  });

  test('startupProbe budget covers the warmup', () => {
    const probe = container.startupProbe!;
    const budgetMs = (probe.periodSeconds ?? 10) * 1000 * (probe.failureThreshold ?? 3);
    assert.ok(
      budgetMs >= 2 * serviceConfig.warmupMs,
      `startup budget ${budgetMs} ms vs warmup ${serviceConfig.warmupMs} ms`,
    );
    assert.ok(budgetMs >= serviceConfig.warmupMs + 10_000, 'and leaves 10 s for the process to boot');
  });

  test('preStop sleep = the kit’s delay, the kit’s own delay off, preStop + drain + hooks fit the grace period', async () => {
    const preStopMs = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    assert.equal(
      preStopMs,
      DEFAULT_KUBERNETES_SHUTDOWN_DELAY,
      'preStop sleep is the kit’s delay inside Kubernetes',
    );
    const { delay, drainTimeout } = health.options.shutdown;
    assert.equal(delay, 0, 'a preStop sleep or the kit’s delay, not both (SHUTDOWN_DELAY_MS=0)');
    const hooksMs = health.options.hooks.reduce((sum, h) => sum + h.timeout, 0);
    assert.ok(hooksMs > 0, 'the example has a cleanup hook');
    const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds! * 1000;
    const total = preStopMs + delay + drainTimeout + hooksMs;
    assert.ok(
      total <= graceMs,
      `${preStopMs} + ${delay} + ${drainTimeout} + ${hooksMs} = ${total} ms > ${graceMs} ms`,
    );
    // The arithmetic in the manifest's comment is the arithmetic of the code.
    const comment = await budgetComment('base/deployment.yaml');
    assert.deepEqual(comment.terms, [preStopMs / 1000, drainTimeout / 1000, hooksMs / 1000]);
    assert.equal(comment.total, total / 1000);
    assert.equal(comment.grace, graceMs / 1000);
  });

  test('requests for the HPA’s CPU target, a memory limit, and no CPU limit', () => {
    assert.ok(container.resources?.requests?.cpu, 'a CPU request (Utilization is relative to it)');
    assert.ok(container.resources?.requests?.memory);
    assert.ok(container.resources?.limits?.memory);
    assert.equal(container.resources?.limits?.cpu, undefined, 'CPU limits throttle the event loop');
  });
});

describe('Services, PodDisruptionBudgets', () => {
  test('Service selectors and target ports reach the pods; PDBs select them and allow evicting unhealthy ones', () => {
    const objects = renderExample('balancer').objects;
    for (const name of [SERVICE, BALANCER]) {
      const deployment = find<Deployment>(objects, 'Deployment', name);
      const labels = deployment.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(labels[k], v);
      const service = find<
        KubeObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } }
      >(objects, 'Service', name);
      for (const [k, v] of Object.entries(service.spec.selector))
        assert.equal(labels[k], v, `${name} Service selector`);
      for (const p of service.spec.ports)
        containerPort(deployment.spec.template.spec.containers[0]!, p.targetPort);
      const pdb = find<
        KubeObject & {
          spec: {
            maxUnavailable: number;
            unhealthyPodEvictionPolicy: string;
            selector: { matchLabels: Record<string, string> };
          };
        }
      >(objects, 'PodDisruptionBudget', name);
      assert.equal(pdb.spec.unhealthyPodEvictionPolicy, 'AlwaysAllow');
      for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels))
        assert.equal(labels[k], v, `${name} PDB selector`);
      assert.ok(
        pdb.spec.maxUnavailable < (deployment.spec.replicas ?? 1),
        `${name}: an eviction leaves a pod serving`,
      );
    }
  });
});

describe('the reference balancer', () => {
  const objects = () => renderExample('balancer').objects;

  function balancerSetup() {
    const deployment = find<Deployment>(objects(), 'Deployment', BALANCER);
    const container = only(deployment.spec.template.spec.containers, 'balancer container');
    const env = containerEnv(container, deployment.metadata.namespace!);
    const args = expandArgs(container.args ?? [], env);
    // The flags as the CLI reads them: every one is in the balancer's option table.
    const flags = new Map<string, unknown>();
    for (let i = 0; i < args.length; i += 2) {
      const flag = /^--([a-z0-9-]+)$/.exec(args[i]!);
      assert.ok(flag && args[i + 1] !== undefined, `args are --flag value pairs: ${args.join(' ')}`);
      const spec = OPTION_TABLE.find((s) => s.flag === flag[1]);
      assert.ok(spec, `--${flag[1]} is a readykit-balancer flag`);
      flags.set(spec.key, args[i + 1]);
    }
    return { deployment, container, env, args, flags };
  }

  test('its arguments are valid flags; EndpointSlice discovery of the example Service by port name', () => {
    const { deployment, container, env, flags } = balancerSetup();
    const tokenVar = container.env?.find((v) => v.name === 'READYKIT_BALANCER_ADMIN_TOKEN');
    assert.ok(tokenVar?.valueFrom?.secretKeyRef, 'the admin token comes from a Secret');
    assert.equal(tokenVar.value, undefined, 'never a literal');
    // The admin listener is not on loopback: without the token the balancer refuses to start.
    assert.throws(() => resolveBalancerConfig({}, flags), /adminToken is required/);
    const config = resolveBalancerConfig(
      {},
      new Map([...flags, ['adminToken', env.READYKIT_BALANCER_ADMIN_TOKEN]]),
    );
    assert.equal(config.kubernetes.service, 'readykit/example-service');
    const [namespace, serviceName] = config.kubernetes.service!.split('/');
    const service = find<KubeObject & { spec: { ports: Array<{ name: string }> } }>(
      objects(),
      'Service',
      serviceName!,
    );
    assert.equal(service.metadata.namespace, namespace);
    assert.ok(
      service.spec.ports.some((p) => p.name === config.kubernetes.port),
      `--k8s-port ${config.kubernetes.port} names a port of Service ${serviceName}`,
    );
    assert.equal(containerPort(container, 'http'), config.listen.port);
    assert.equal(containerPort(container, 'admin'), config.admin.port);
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      assert.equal(
        containerPort(container, probe!.httpGet!.port),
        config.admin.port,
        'probes go to the admin listener',
      );
    }
    assert.equal(container.readinessProbe!.httpGet!.path, '/readyz');
    assert.equal(container.livenessProbe!.httpGet!.path, '/healthz');
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    assert.equal(Number(annotations['prometheus.io/port']), config.admin.port, 'scraped on the admin port');
    assert.equal(annotations['prometheus.io/path'], '/metrics');
    assert.equal(container.startupProbe!.httpGet!.path, '/healthz');
  });

  test('RBAC: get, list and watch EndpointSlices in its namespace, bound to the ServiceAccount it runs as', () => {
    const { deployment } = balancerSetup();
    const account = deployment.spec.template.spec.serviceAccountName!;
    find(objects(), 'ServiceAccount', account);
    const role = find<
      KubeObject & { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }
    >(objects(), 'Role', BALANCER);
    const rule = only(role.rules, 'Role rule');
    assert.deepEqual(rule.apiGroups, ['discovery.k8s.io']);
    assert.deepEqual(rule.resources, ['endpointslices']);
    assert.deepEqual([...rule.verbs].sort(), ['get', 'list', 'watch']);
    const binding = find<
      KubeObject & {
        roleRef: { kind: string; name: string };
        subjects: Array<{ kind: string; name: string; namespace: string }>;
      }
    >(objects(), 'RoleBinding', BALANCER);
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: account, namespace: deployment.metadata.namespace },
    ]);
  });

  test('its own shutdown delay (no preStop), drain and hooks fit the grace period', async () => {
    const { deployment, container, env, flags } = balancerSetup();
    assert.equal(container.lifecycle?.preStop, undefined, 'the balancer delays by itself: not both');
    const config = resolveBalancerConfig(
      {},
      new Map([...flags, ['adminToken', env.READYKIT_BALANCER_ADMIN_TOKEN]]),
    );
    const balancer = insideKubernetes(() => new Balancer(config));
    try {
      const { delay, drainTimeout, terminationGracePeriod } = balancer.health.options.shutdown;
      const hooksMs = balancer.health.options.hooks.reduce((sum, h) => sum + h.timeout, 0);
      assert.equal(delay, DEFAULT_KUBERNETES_SHUTDOWN_DELAY, 'the kit’s delay inside Kubernetes');
      const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds! * 1000;
      assert.ok(delay + drainTimeout + hooksMs <= graceMs);
      assert.ok(terminationGracePeriod <= graceMs, 'its own hard deadline comes before SIGKILL');
      const comment = await budgetComment('balancer/deployment.yaml');
      assert.deepEqual(comment.terms, [delay / 1000, drainTimeout / 1000, hooksMs / 1000]);
      assert.equal(comment.total, (delay + drainTimeout + hooksMs) / 1000);
      assert.equal(comment.grace, graceMs / 1000);
    } finally {
      await balancer.close();
    }
  });
});

describe('autoscaling', () => {
  test('HPA: autoscaling/v2 on the Pods metric the adapter serves (AverageValue) and CPU, explicit behavior', () => {
    const objects = renderExample('hpa').objects;
    const hpa = find<
      KubeObject & {
        spec: {
          scaleTargetRef: { kind: string; name: string };
          minReplicas: number;
          metrics: Array<
            Record<string, { metric?: { name: string }; name?: string; target: Record<string, unknown> }>
          >;
          behavior: { scaleUp: Record<string, unknown>; scaleDown: Record<string, unknown> };
        };
      }
    >(objects, 'HorizontalPodAutoscaler', SERVICE);
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    const target = find<Deployment>(objects, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
    assert.equal(target.spec.replicas, undefined, 'the hpa overlay drops spec.replicas');
    assert.ok(hpa.spec.minReplicas >= 2, 'the PDB can always evict one pod');
    const pods = only(
      hpa.spec.metrics.filter((m) => m.type === ('Pods' as unknown)),
      'Pods metric',
    ).pods!;
    assert.equal(pods.metric!.name, 'http_requests_in_flight');
    assert.equal(pods.target.type, 'AverageValue');
    assert.ok(
      adapterRules().some((r) => r.name.as === pods.metric!.name),
      'a prometheus-adapter rule serves the metric',
    );
    const cpu = only(
      hpa.spec.metrics.filter((m) => m.type === ('Resource' as unknown)),
      'Resource metric',
    ).resource!;
    assert.equal(cpu.name, 'cpu');
    assert.equal(cpu.target.type, 'Utilization');
    for (const direction of ['scaleUp', 'scaleDown'] as const) {
      const rules = hpa.spec.behavior[direction];
      assert.ok(
        rules.stabilizationWindowSeconds !== undefined && rules.selectPolicy && rules.policies,
        direction,
      );
    }
  });

  test('prometheus-adapter rules: marked legacy, pods resources, a `sum`/`max` grouped by pod', () => {
    const text = adapterValuesText();
    assert.match(text, /^# LEGACY\./m);
    assert.match(text, /KEDA/);
    for (const rule of adapterRules()) {
      assert.deepEqual(rule.resources.overrides, {
        namespace: { resource: 'namespace' },
        pod: { resource: 'pod' },
      });
      assert.ok(new RegExp(rule.name.matches).test(metricNames(rule.seriesQuery)[0]!), rule.name.matches);
      assert.match(rule.metricsQuery, /<<\.Series>>\{<<\.LabelMatchers>>\}/);
      assert.match(rule.metricsQuery, /by \(<<\.GroupBy>>\)$/);
    }
  });

  test('KEDA: string values, ignoreNullValues "false", a fallback, AverageValue queries that are sum(...)', () => {
    const triggers = kedaTriggers();
    assert.ok(triggers.length >= 4);
    const hpaBehavior = find<KubeObject & { spec: { behavior: unknown } }>(
      renderExample('hpa').objects,
      'HorizontalPodAutoscaler',
      SERVICE,
    ).spec.behavior;
    for (const { overlay, scaledObject, trigger } of triggers) {
      const where = `${overlay} ${trigger.name}`;
      const spec = scaledObject.spec;
      assert.equal(trigger.type, 'prometheus', where);
      for (const [k, v] of Object.entries(trigger.metadata))
        assert.equal(typeof v, 'string', `${where}: ${k} is a string`);
      assert.equal(trigger.metadata.ignoreNullValues, 'false', where);
      assert.ok(Number(trigger.metadata.threshold) > 0, `${where}: threshold is a positive number`);
      assert.match(String(trigger.metadata.serverAddress), /^https?:\/\/[^/]+:\d+$/);
      assert.equal(
        trigger.metricType ?? 'AverageValue',
        'AverageValue',
        `${where}: fallback needs AverageValue`,
      );
      const query = String(trigger.metadata.query);
      assert.equal(
        outermostCall(query),
        'sum',
        `${where}: KEDA divides by replicas, so the query sums: ${query}`,
      );
      assert.doesNotMatch(query, /vector\s*\(/, `${where}: no vector(0): a missing answer must stay missing`);
      // Every selector names the rendered namespace and the pods of one Deployment.
      for (const s of selectors(query)) {
        assert.equal(s.matchers.get('namespace'), `=${scaledObject.metadata.namespace}`, where);
        const pod = s.matchers.get('pod');
        assert.ok(pod?.startsWith('=~'), `${where}: selects pods by name`);
        const podPattern = new RegExp(`^(?:${pod!.slice(2)})$`);
        const owners = renderExample(overlay)
          .objects.filter((o) => o.kind === 'Deployment')
          .filter((d) => podPattern.test(`${d.metadata.name}-6d9f7c8b5-x2x4q`));
        assert.equal(owners.length, 1, `${where}: ${pod} matches the pods of exactly one Deployment`);
      }
      assert.deepEqual(spec.fallback?.behavior, 'currentReplicasIfHigher', where);
      assert.ok(
        spec.fallback!.replicas >= (spec.minReplicaCount ?? 0) && spec.fallback!.failureThreshold >= 1,
      );
      assert.ok((spec.minReplicaCount ?? 0) >= 2, 'the PDB can always evict one pod');
      assert.ok(
        !spec.triggers.some((tr) => tr.type === 'cpu' || tr.type === 'memory'),
        'fallback ignores cpu/memory',
      );
      assert.deepEqual(
        spec.advanced?.horizontalPodAutoscalerConfig?.behavior,
        hpaBehavior,
        'same behavior as hpa/',
      );
      const target = find<Deployment>(renderExample(overlay).objects, 'Deployment', spec.scaleTargetRef.name);
      assert.equal(target.spec.replicas, undefined, `${overlay} drops spec.replicas`);
    }
  });
});

describe('every metric a query uses exists in /metrics', () => {
  let service: ServiceProcess | undefined;
  let balancer: BalancerProcess | undefined;

  after(async () => {
    balancer?.kill('SIGKILL');
    service?.kill('SIGKILL');
    await Promise.all([balancer?.exited, service?.exited]);
  });

  test('the example service’s and the reference balancer’s, after one request through both', async () => {
    service = await startService({ WARMUP_MS: '0' });
    balancer = await startBalancer([
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--backend',
      service.url,
    ]);
    await balancer.waitFor('the backend to be ready', (r) => r.backends.every((b) => b.state === 'ready'));
    assert.equal((await fetch(`${balancer.url}/api/items/1`)).status, 200);
    await sleep(50);
    const exposed = async (url: string): Promise<Set<string>> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return new Set(
        [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap((m) => histogramNames(m[1]!, m[2]!)),
      );
    };
    const fromService = await exposed(service.url);
    const fromBalancer = await exposed(balancer.admin);
    const queries: Array<{ where: string; query: string }> = [
      ...kedaTriggers().map(({ overlay, trigger }) => ({
        where: `${overlay} trigger ${trigger.name}`,
        query: String(trigger.metadata.query),
      })),
      ...adapterRules().flatMap((r) => [
        { where: `adapter rule ${r.name.as} seriesQuery`, query: r.seriesQuery },
        {
          where: `adapter rule ${r.name.as} metricsQuery`,
          query: expandAdapterQuery(r.metricsQuery, {
            series: metricNames(r.seriesQuery)[0]!,
            labelMatchers: 'namespace="readykit",pod=~"example-service-.*"',
            groupBy: 'pod',
          }),
        },
      ]),
    ];
    for (const { where, query } of queries) {
      const names = metricNames(query);
      assert.ok(names.length > 0, `${where}: ${query}`);
      for (const s of selectors(query)) {
        const fromBalancerPods = s.matchers.get('pod')?.includes(BALANCER) ?? false;
        const source = fromBalancerPods ? fromBalancer : fromService;
        assert.ok(
          source.has(s.metric),
          `${where}: ${s.metric} is in the ${fromBalancerPods ? 'balancer' : 'service'}'s /metrics`,
        );
      }
    }
  });
});

/** Names a `# TYPE` line stands for: a histogram's `_bucket`, `_sum` and `_count` as well. */
function histogramNames(name: string, type: string): string[] {
  return type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}
