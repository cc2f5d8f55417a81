import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { startBalancer } from '../support/balancer-process.ts';
import { requireCommand } from '../support/components.ts';
import { startConcurrencyLoad } from '../support/concurrency-load.ts';
import { parseQuantity, type ReplayStep, replayHpa, resolveBehavior } from '../support/hpa-replay.ts';
import {
  adapterRules,
  type Deployment,
  find,
  kedaTriggers,
  renderExample,
} from '../support/kubernetes-examples.ts';
import type { KubeObject } from '../support/kustomize.ts';
import { PrometheusServer } from '../support/prometheus-server.ts';
import { expandAdapterQuery, metricNames } from '../support/promql.ts';
import { startService } from '../support/service-process.ts';

// A real Prometheus scrapes two example service instances and the reference balancer in front
// of them, labelled as Kubernetes service discovery would label pods. A load generator drives
// requests through the balancer at a concurrency that doubles; every query of the manifests
// (KEDA triggers, prometheus-adapter rules) is evaluated through Prometheus' HTTP API. Then the
// HPA of hpa/hpa.yaml is replayed over the series recorded during the ramp.

const NAMESPACE = 'readykit';
const SERVICE_PODS = ['example-service-6d9f7c8b5-2xq4p', 'example-service-6d9f7c8b5-7kz9m'];
const BALANCER_POD = 'readykit-balancer-5c7d9b6f4-lq8vn';
/** Every request waits this long in the service: in-flight follows concurrency, not the CPU. */
const LATENCY_MS = 100;
/** The load ramp: concurrency through the balancer and how long each level lasts. */
const RAMP = [
  { phase: 'A', concurrency: 16, seconds: 8 },
  { phase: 'B', concurrency: 32, seconds: 8 }, // A doubled
  { phase: 'peak', concurrency: 80, seconds: 9 },
  { phase: 'low', concurrency: 4, seconds: 8 },
] as const;
/** The replay takes each 1 s sample as one HPA sync (the controller syncs every 15 s). */
const SYNC_PERIOD_SECONDS = 15;

interface NamedQuery {
  readonly name: string;
  readonly query: string;
  /** KEDA reads one number; with ignoreNullValues "false" an empty answer is an error. */
  readonly keda: boolean;
  /** Must answer even before any request: the KEDA triggers and the metric the HPA uses. */
  readonly idle: boolean;
}

function manifestQueries(): NamedQuery[] {
  const podMatchers = `namespace="${NAMESPACE}",pod=~"${SERVICE_PODS.join('|')}"`;
  const hpa = find<
    KubeObject & { spec: { metrics: Array<{ type: string; pods?: { metric: { name: string } } }> } }
  >(renderExample('hpa').objects, 'HorizontalPodAutoscaler', 'example-service');
  const hpaMetric = hpa.spec.metrics.find((m) => m.type === 'Pods')!.pods!.metric.name;
  return [
    ...kedaTriggers().map(({ overlay, trigger }) => ({
      name: `${overlay} trigger ${trigger.name}`,
      query: String(trigger.metadata.query),
      keda: true,
      idle: true,
    })),
    // As the adapter asks for the pods of the HPA's target: their names in the pod matcher.
    ...adapterRules().map((rule) => ({
      name: `adapter rule ${rule.name.as}`,
      query: expandAdapterQuery(rule.metricsQuery, {
        series: metricNames(rule.seriesQuery)[0]!,
        labelMatchers: podMatchers,
        groupBy: 'pod',
      }),
      keda: false,
      idle: rule.name.as === hpaMetric,
    })),
  ];
}

test('a real Prometheus answers every query of the manifests; each rises when the load doubles; HPA replay', async (t) => {
  if (!requireCommand(t, 'prometheus', 'prometheus')) return;
  const started = Date.now();
  const queries = manifestQueries();

  const services = await Promise.all(
    SERVICE_PODS.map(() => startService({ WARMUP_MS: '0', LATENCY_MS: String(LATENCY_MS) })),
  );
  const pids: number[] = services.map((s) => s.child.pid!);
  t.after(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
  });
  const balancer = await startBalancer([
    '--listen',
    '127.0.0.1:0',
    '--admin',
    '127.0.0.1:0',
    '--health-interval',
    '200ms',
    '--slow-start-window',
    '0',
    ...services.flatMap((s) => ['--backend', s.url]),
  ]);
  pids.push(balancer.child.pid!);
  t.after(async () => {
    balancer.kill('SIGKILL');
    await balancer.exited;
  });
  await balancer.waitFor(
    'both backends ready',
    (r) => r.backends.filter((b) => b.state === 'ready').length === 2,
  );

  const hostPort = (url: string) => new URL(url).host;
  const prometheus = await PrometheusServer.start([
    ...services.map((s, i) => ({
      job: 'example-service',
      address: hostPort(s.url),
      labels: { namespace: NAMESPACE, pod: SERVICE_PODS[i]! },
    })),
    {
      job: 'readykit-balancer',
      address: hostPort(balancer.admin),
      labels: { namespace: NAMESPACE, pod: BALANCER_POD },
    },
  ]);
  pids.push(prometheus.pid!);
  t.after(async () => {
    await prometheus.stop();
  });
  // After hooks run in the order registered: this one after every kill above.
  t.after(() => {
    for (const pid of pids)
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
  });
  await prometheus.waitForTargets(3);
  await sleep(2500); // a few scrapes at idle

  // Idle: the KEDA triggers and the HPA's metric must answer (0 is an answer, nothing is not).
  const idleAt = Date.now() / 1000;
  for (const q of queries.filter((q) => q.idle)) {
    const samples = await prometheus.query(q.query, idleAt);
    assert.equal(samples.length, q.keda ? 1 : SERVICE_PODS.length, `${q.name} at idle: ${q.query}`);
    for (const s of samples) assert.ok(Number.isFinite(s.value), `${q.name} at idle is a number`);
  }

  // The ramp, through the balancer.
  const agent = new Agent({ connections: 128, keepAliveTimeout: 4000 });
  t.after(() => agent.close());
  const load = startConcurrencyLoad({
    url: (n) => `${balancer.url}/api/items/${n % 1000}`,
    dispatcher: agent,
  });
  const rampStart = Date.now() / 1000;
  const ends: Record<string, number> = {};
  for (const step of RAMP) {
    load.setConcurrency(step.concurrency);
    await sleep(step.seconds * 1000);
    ends[step.phase] = Date.now() / 1000;
  }
  const report = await load.stop();
  const rampEnd = Date.now() / 1000;
  assert.equal(report.failed, 0, `failed requests: ${report.failures.join('\n')}`);
  t.diagnostic(`load: ${report.completed} requests through the balancer, 0 failed`);
  await sleep(1500); // the last samples of the ramp scraped

  // Every query answers, non-null, at the end of A and at the end of B (A doubled), and rises.
  const rows: string[] = [];
  for (const q of queries) {
    const at = async (time: number): Promise<number> => {
      const samples = await prometheus.query(q.query, time);
      assert.ok(samples.length > 0, `${q.name} returned nothing: ${q.query}`);
      if (q.keda) assert.equal(samples.length, 1, `${q.name}: KEDA reads a single value`);
      const total = samples.reduce((sum, s) => sum + s.value, 0);
      assert.ok(Number.isFinite(total), `${q.name}: ${total}`);
      return total;
    };
    const a = await at(ends.A!);
    const b = await at(ends.B!);
    rows.push(
      `${q.name.padEnd(46)} ${a.toFixed(3).padStart(9)} ${b.toFixed(3).padStart(9)}  x${(b / a).toFixed(2)}`,
    );
    assert.ok(a > 0, `${q.name} is above 0 under load`);
    // In flight about doubles; event loop utilization adds the requests' share to an idle base;
    // every query averages over a minute that still holds the idle start: at least 10 % more.
    assert.ok(b > a * 1.1, `${q.name} rises when the load doubles: ${a} -> ${b}`);
  }
  console.log(
    `\nquery (A: ${RAMP[0].concurrency} concurrent requests, B: ${RAMP[1].concurrency})${' '.repeat(8)}A         B\n${rows.join('\n')}`,
  );

  // The HPA of hpa/hpa.yaml replayed over the recorded ramp.
  const steps = await replayRecordedRamp(prometheus, rampStart, rampEnd, ends);
  const hpa = hpaSpec();
  const replicas = steps.map((s) => s.replicas);
  assert.ok(replicas.every((r) => r >= hpa.minReplicas && r <= hpa.maxReplicas));
  const inPhase = (phase: string) => steps.filter((s) => s.phase === phase);
  const most = (phase: string) => Math.max(...inPhase(phase).map((s) => s.replicas));
  assert.ok(
    inPhase('A').every((s) => s.replicas === hpa.minReplicas),
    'A fits in the minimum',
  );
  assert.ok(most('B') > hpa.minReplicas, 'doubling the load scales up');
  assert.ok(most('peak') > most('B'), 'the peak scales up further');
  // By the end of the peak the count gives each pod about the target (tolerance 10 %, noise 10 %).
  const settled = inPhase('peak').at(-1)!;
  const peakTotals = inPhase('peak')
    .map((s) => s.totals.inflight!)
    .sort((x, y) => x - y);
  const perPod = peakTotals[Math.floor(peakTotals.length / 2)]! / settled.replicas;
  assert.ok(Math.abs(perPod / hpa.target - 1) <= 0.2, `${perPod.toFixed(1)} in flight per pod at the peak`);
  for (const s of steps) {
    assert.ok(s.replicas - s.before <= Math.max(s.before, 4), 'scale-up within +100 % or +4 pods per 15 s');
  }
  assert.ok(
    inPhase('low').every((s) => s.replicas === settled.replicas),
    'the low phase (shorter than the 300 s scale-down window) keeps the peak count',
  );
  t.diagnostic(`whole test ${((Date.now() - started) / 1000).toFixed(1)} s`);

  async function replayRecordedRamp(
    p: PrometheusServer,
    start: number,
    end: number,
    phaseEnds: Record<string, number>,
  ): Promise<Array<ReplayStep & { phase: string }>> {
    const pods = `namespace="${NAMESPACE}",pod=~"example-service-.*"`;
    // Fleet-wide totals, instant values at 1 s: what the HPA's metrics would show, not smoothed.
    const inflight = await p.queryRange(`sum(http_requests_in_flight{${pods}})`, start, end, 1);
    const cpu = await p.queryRange(`sum(irate(process_cpu_seconds_total{${pods}}[3s]))`, start, end, 1);
    const cpuAt = new Map(cpu[0]?.values.map(([at, v]) => [at, v]));
    const samples = only(inflight).values.map(([at, v], k) => ({
      at: k * SYNC_PERIOD_SECONDS,
      recordedAt: at,
      totals: { inflight: v, cpu: cpuAt.get(at) ?? 0 },
    }));
    const spec = hpaSpec();
    const result = replayHpa(
      { minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, behavior: spec.behavior },
      [
        { name: 'inflight', target: spec.target, perPod: (total, n) => total / n },
        { name: 'cpu', target: spec.cpuTarget, perPod: (cores, n) => (100 * cores) / n / spec.cpuRequest },
      ],
      samples,
      spec.minReplicas,
    ).map((s, k) => ({ ...s, phase: phaseAt(samples[k]!.recordedAt, phaseEnds) }));
    const table = result.map(
      (s) =>
        `${String(s.at).padStart(5)} s  ${s.phase.padEnd(5)} ${s.totals.inflight!.toFixed(1).padStart(6)} ` +
        `${(s.totals.cpu! * 1000).toFixed(0).padStart(5)}m  ` +
        `${s.metrics.map((m) => String(m.proposal).padStart(3)).join(' ')}  ${String(s.before).padStart(3)} -> ${String(s.replicas).padStart(3)}` +
        `${s.limitedBy === 'none' ? '' : `  (${s.limitedBy})`}`,
    );
    console.log(
      `\nHPA replay (hpa/hpa.yaml: ${spec.target} in flight per pod, CPU ${spec.cpuTarget} % of ${spec.cpuRequest * 1000}m; ` +
        `each 1 s sample taken as one ${SYNC_PERIOD_SECONDS} s sync; proposals: in-flight's, CPU's)\n` +
        `   time  phase inflight   cpu  proposals  replicas\n${table.join('\n')}`,
    );
    return result;
  }
});

function phaseAt(at: number, ends: Record<string, number>): string {
  for (const step of RAMP) if (at <= ends[step.phase]!) return step.phase;
  return 'after';
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1);
  return items[0]!;
}

/** What the replay needs from hpa/hpa.yaml and the Deployment's CPU request. */
function hpaSpec() {
  const objects = renderExample('hpa').objects;
  const hpa = find<
    KubeObject & {
      spec: {
        minReplicas: number;
        maxReplicas: number;
        metrics: Array<{
          type: string;
          pods?: { target: { averageValue: string } };
          resource?: { target: { averageUtilization: number } };
        }>;
        behavior: Parameters<typeof resolveBehavior>[0];
      };
    }
  >(objects, 'HorizontalPodAutoscaler', 'example-service');
  const deployment = find<Deployment>(objects, 'Deployment', 'example-service');
  return {
    minReplicas: hpa.spec.minReplicas,
    maxReplicas: hpa.spec.maxReplicas,
    behavior: resolveBehavior(hpa.spec.behavior),
    target: parseQuantity(hpa.spec.metrics.find((m) => m.type === 'Pods')!.pods!.target.averageValue),
    cpuTarget: hpa.spec.metrics.find((m) => m.type === 'Resource')!.resource!.target.averageUtilization,
    cpuRequest: parseQuantity(deployment.spec.template.spec.containers[0]!.resources!.requests!.cpu!),
  };
}
