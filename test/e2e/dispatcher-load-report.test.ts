import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type BalancedDispatcher, createBalancedDispatcher } from '@readykit/balancer';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// Server-reported load (ORCA `endpoint-load-metrics`) exists for one case latency cannot see in
// time: a backend whose event loop is kept busy by something the balancer does not send it (a
// batch job, a cache rebuild). Its answers are still nearly as fast for a while, so p2c-ewma
// keeps sending it a fair share; with the report, its utilization near 1 multiplies its cost
// and it loses most comparisons at once. The same run is made with the report on and off.

const BUSY_SERVICE = fileURLToPath(new URL('./fixtures/busy-service.ts', import.meta.url));
const ORIGIN = 'http://busy.test';
const LOOPS = 6;
const WARMUP_MS = 2000;
const MEASURE_MS = 3000;
const BEFORE_MS = 1000;

interface Call {
  readonly at: number;
  readonly ms: number;
  readonly service: number;
}

interface Latency {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
}

interface Outcome {
  /** Share of the busy service among calls started after it became busy. */
  readonly share: number;
  /** The same share per second of the measured window. */
  readonly perSecond: readonly number[];
  readonly before: Latency;
  readonly after: Latency;
  readonly calls: number;
  readonly failures: readonly string[];
  /** Reported utilization of each service as the dispatcher saw it at the end, busy one last. */
  readonly utilization: readonly number[];
}

function latency(calls: readonly Call[]): Latency {
  const sorted = calls.map((c) => c.ms).sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99) };
}

function share(calls: readonly Call[], service: number): number {
  return calls.length === 0 ? Number.NaN : calls.filter((c) => c.service === service).length / calls.length;
}

async function allReady(d: BalancedDispatcher, count: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while ([...d.cluster.backends.all()].filter((b) => b.state === 'ready').length < count) {
    if (performance.now() > deadline) throw new Error('the services did not all become ready within 5 s');
    await sleep(50);
  }
}

/** Three services, the last made busy after the warm-up; closed-loop calls through a dispatcher. */
async function run(t: TestContext, loadReport: boolean): Promise<Outcome> {
  const env = { LOAD_REPORT: String(loadReport), WORK_MS: '5' };
  const services: ServiceProcess[] = await Promise.all(
    [0, 1, 2].map(() => startService(env, { script: BUSY_SERVICE })),
  );
  const kill = (): void => {
    for (const s of services) s.kill('SIGKILL');
  };
  t.after(kill);
  const ports = services.map((s) => new URL(s.url).port);
  const d = createBalancedDispatcher({
    origin: ORIGIN,
    backends: services.map((s) => s.url),
    healthCheck: { interval: '200ms' },
    // The services start together; slow start would only add a ramp shared by all three.
    slowStart: { window: 0 },
  });
  t.after(() => d.close());
  try {
    await allReady(d, services.length);
    const calls: Call[] = [];
    const failures: string[] = [];
    let stopAt = Number.POSITIVE_INFINITY;
    const loop = async (): Promise<void> => {
      while (performance.now() < stopAt) {
        const at = performance.now();
        try {
          const res = await fetch(`${ORIGIN}/api/work`, { dispatcher: d } as RequestInit);
          await res.arrayBuffer();
          const service = ports.indexOf(res.headers.get('x-served-by') ?? '');
          if (res.status !== 200 || service < 0) failures.push(`${res.status} from ${service}`);
          else calls.push({ at, ms: performance.now() - at, service });
        } catch (error) {
          // A failed call may fail without yielding to the event loop: stop this loop, the
          // assertions report it.
          failures.push(String((error as Error).cause ?? error));
          return;
        }
      }
    };
    const loops = Array.from({ length: LOOPS }, loop);
    await sleep(WARMUP_MS);
    const busy = services.length - 1;
    const busyAt = performance.now();
    // Straight to the service, not through the dispatcher: the balancer never sees this work.
    const answer = await fetch(`${services[busy]!.url}/busy?ms=${MEASURE_MS + 500}`, { method: 'POST' });
    assert.equal(answer.status, 200);
    await sleep(MEASURE_MS);
    stopAt = performance.now();
    const end = busyAt + MEASURE_MS;
    const utilization = [...d.cluster.backends.all()]
      .map((b) => ({ index: ports.indexOf(new URL(b.id).port), u: b.load.utilization(stopAt) }))
      .sort((a, b) => a.index - b.index)
      .map((x) => x.u);
    await Promise.all(loops);
    const after = calls.filter((c) => c.at >= busyAt && c.at < end);
    const perSecond = [0, 1, 2].map((s) =>
      share(
        after.filter((c) => c.at < busyAt + (s + 1) * 1000 && c.at >= busyAt + s * 1000),
        busy,
      ),
    );
    const ofBusy = (list: readonly Call[]) => list.filter((c) => c.service === busy);
    return {
      share: share(after, busy),
      perSecond,
      before: latency(ofBusy(calls.filter((c) => c.at >= busyAt - BEFORE_MS && c.at < busyAt))),
      after: latency(ofBusy(after)),
      calls: after.length,
      failures,
      utilization,
    };
  } finally {
    await d.close();
    kill();
    await Promise.all(services.map((s) => s.exited));
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const ms = (l: Latency): string => `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (n=${l.n})`;
const describe = (name: string, o: Outcome): string =>
  `  load report ${name}: busy share ${pct(o.share)} of ${o.calls} calls, per second ${o.perSecond.map(pct).join(' / ')}; ` +
  `busy service latency before ${ms(o.before)}, after ${ms(o.after)}; ` +
  `reported utilization ${o.utilization.map((u) => u.toFixed(2)).join(', ')}`;

test('a service busy with work the balancer cannot see loses its share at once with load reports, not without', async (t) => {
  const on = await run(t, true);
  const off = await run(t, false);
  console.log(
    `busy service share: load report on ${pct(on.share)}, off ${pct(off.share)} (baseline ${pct(1 / 3)})\n` +
      `${describe('on', on)}\n${describe('off', off)}`,
  );
  assert.deepEqual(on.failures, []);
  assert.deepEqual(off.failures, []);
  assert.ok(on.calls > 300 && off.calls > 300, `enough calls measured: on ${on.calls}, off ${off.calls}`);
  // Without the report the balancer sees a backend that is barely slower: it keeps its share.
  assert.ok(off.share > 0.2, `off: busy share ${pct(off.share)} stays near a third`);
  // The premise: the busy service's latency is still close to normal.
  assert.ok(
    off.after.p50 < off.before.p50 + 5,
    `off: the busy service answers about as fast (p50 ${off.before.p50.toFixed(1)} -> ${off.after.p50.toFixed(1)} ms)`,
  );
  // With the report the busy service says so, and loses most comparisons.
  assert.ok(on.utilization[2]! > 0.5, `on: the busy service reported utilization ${on.utilization[2]}`);
  assert.ok(on.share < 0.6 * off.share, `on: busy share ${pct(on.share)} < 0.6 x off ${pct(off.share)}`);
});
