import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { type BalancerProcess, startBalancer } from '../support/balancer-process.ts';
import { collectGarbage, INSPECT_ON_FREE_PORT, inspectorAddress } from '../support/inspector-gc.ts';
import { type Footprint, footprint } from '../support/process-footprint.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// Soak: a million requests through the balancer to three example services, then the question
// is whether anything accumulates per request — memory (RSS) or file descriptors — in any of
// the four processes. SOAK_REQUESTS lowers the count for a quick local run; the suite runs the
// issue's 1 000 000. On a 2-core machine: 6 to 8 min (2 100 to 2 700 req/s) measured while other
// suites ran beside it; an idle machine sustained about 7 000 req/s in a short probe, which
// would make it about 2.5 min.
//
// How RSS is compared: a Node process's RSS under load is mostly V8's heap, whose size swings
// with the collector's heuristics (an example service between 115 and 165 MiB within a minute of
// steady traffic), which would swamp a 10 % criterion. So each process runs with its inspector
// open, and before each reading the fleet is left idle until every keep-alive socket has closed,
// then every process is collected in full through the inspector (HeapProfiler.collectGarbage):
// the reading is then live memory, within a few hundred KiB run to run. The first reading comes
// after a warm-up of a tenth of the requests (JIT, pools, V8's heap growth settled: the
// balancer's loaded RSS stops climbing after about 70 000 requests), the second at the end.
const TOTAL = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const WARMUP = Math.round(TOTAL / 10);
const CONNECTIONS = 64;
/** Upstream and client keep-alive both end after this once idle, so a settled fleet holds no pooled sockets. */
const IDLE_MS = 1000;
/** Time from the end of a phase to the measurement: every idle keep-alive socket is closed by then. */
const SETTLE_MS = 3000;
const RSS_GROWTH = 0.1;
// Settled, every process holds only its listeners, pipes and V8's own descriptors, so the fd
// counts must come back to the same figure. The slack covers the one readiness probe the
// balancer may have in flight at the instant of reading (each on a connection of its own: one
// fd in the balancer, one in the probed service).
const FD_SLACK = 1;

interface Named {
  readonly name: string;
  readonly pid: number;
  /** Its inspector's WebSocket address. */
  readonly inspector: string;
}

test(`soak: ${TOTAL} requests through the balancer to 3 services, no RSS or fd growth`, {
  timeout: 15 * 60_000,
}, async (t) => {
  assert.ok(Number.isInteger(TOTAL) && TOTAL >= 1000, `SOAK_REQUESTS must be a whole number ≥ 1000`);
  const services: ServiceProcess[] = [];
  let balancer: BalancerProcess | undefined;
  // Every process is gone before the test ends: killed, and its exit seen.
  t.after(async () => {
    balancer?.kill('SIGKILL');
    for (const s of services) s.kill('SIGKILL');
    await Promise.all([balancer?.exited, ...services.map((s) => s.exited)]);
  });
  const nodeArgs = [INSPECT_ON_FREE_PORT];
  for (let i = 0; i < 3; i++) services.push(await startService({ WARMUP_MS: '0' }, { nodeArgs }));
  balancer = await startBalancer(
    [
      '--listen=127.0.0.1:0',
      '--admin=127.0.0.1:0',
      ...services.flatMap((s) => ['--backend', s.url]),
      '--slow-start-window=0',
      `--upstream-idle-timeout=${IDLE_MS}`,
      `--client-idle-timeout=${IDLE_MS}`,
    ],
    { nodeArgs },
  );
  const bal = balancer;
  await bal.waitFor('every backend ready', (r) => r.backends.every((b) => b.state === 'ready'));
  const processes: Named[] = [
    { name: 'balancer', pid: bal.child.pid!, inspector: inspectorAddress(bal.output) },
    ...services.map((s, i) => ({
      name: `service ${i + 1}`,
      pid: s.child.pid!,
      inspector: inspectorAddress(s.output),
    })),
  ];

  const pids = processes.map((p) => p.pid);
  const warmup = await drive(bal.url, 0, WARMUP, pids);
  const before = await measureSettled(processes);
  const main = await drive(bal.url, WARMUP, TOTAL - WARMUP, pids);
  const after = await measureSettled(processes);

  const seconds = (warmup.ms + main.ms) / 1000;
  console.log(
    `soak: ${TOTAL} requests in ${seconds.toFixed(1)} s, ${(TOTAL / seconds).toFixed(0)} req/s ` +
      `(warm-up ${WARMUP} at ${((1000 * WARMUP) / warmup.ms).toFixed(0)} req/s, then ${TOTAL - WARMUP} at ` +
      `${((1000 * (TOTAL - WARMUP)) / main.ms).toFixed(0)} req/s), ${CONNECTIONS} keep-alive connections, ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
  for (const p of processes) {
    const b = before.get(p.name)!;
    const a = after.get(p.name)!;
    console.log(
      `  ${p.name.padEnd(9)} RSS ${mib(b.rssKiB)} → ${mib(a.rssKiB)} MiB (${percent(a.rssKiB / b.rssKiB - 1)}), ` +
        `peak while loaded ${mib(Math.max(warmup.peakRss.get(p.pid) ?? 0, main.peakRss.get(p.pid) ?? 0))} MiB; ` +
        `fds ${b.fds} → ${a.fds}`,
    );
  }

  assert.equal(
    warmup.failed + main.failed,
    0,
    `failed requests:\n${[...warmup.failures, ...main.failures].join('\n')}`,
  );
  assert.equal(warmup.completed + main.completed, TOTAL);
  for (const s of [bal, ...services])
    assert.equal(s.child.exitCode, null, 'a process exited during the soak');
  const served = (await bal.backends()).backends.map((b) => b.requests);
  assert.ok(
    served.reduce((a, b) => a + b, 0) >= TOTAL,
    `the balancer counts ${served.join(' + ')} requests to its backends, fewer than ${TOTAL}`,
  );
  for (const p of processes) {
    const b = before.get(p.name)!;
    const a = after.get(p.name)!;
    assert.ok(
      a.rssKiB < b.rssKiB * (1 + RSS_GROWTH),
      `${p.name}: RSS grew from ${mib(b.rssKiB)} to ${mib(a.rssKiB)} MiB (${percent(a.rssKiB / b.rssKiB - 1)}) over ${TOTAL - WARMUP} requests`,
    );
    assert.ok(a.fds <= b.fds + FD_SLACK, `${p.name}: open fds grew from ${b.fds} to ${a.fds}`);
  }
});

/** Footprints of the idle fleet, each read right after a full collection of that process. */
async function measureSettled(processes: readonly Named[]): Promise<Map<string, Footprint>> {
  await sleep(SETTLE_MS);
  const readings = new Map<string, Footprint>();
  for (const p of processes) {
    await collectGarbage(p.inspector);
    readings.set(p.name, footprint(p.pid));
  }
  return readings;
}

interface Phase {
  readonly completed: number;
  readonly failed: number;
  readonly failures: readonly string[];
  readonly ms: number;
  /** Highest RSS (KiB) sampled every second while the phase ran, by pid. */
  readonly peakRss: ReadonlyMap<number, number>;
}

/**
 * Sends requests `first … first + count - 1` through `origin` on its own keep-alive pool of
 * CONNECTIONS connections (closed loop: each connection sends its next request when the last is
 * answered), and closes the pool at the end so that the settled fleet holds no client sockets.
 * A quarter of the requests carry a fresh W3C trace context, so the tracing path is soaked too;
 * every 1000th answer is checked in full.
 */
async function drive(origin: string, first: number, count: number, pids: readonly number[]): Promise<Phase> {
  const agent = new Agent({ connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: IDLE_MS });
  const failures: string[] = [];
  let failed = 0;
  let completed = 0;
  let next = first;
  const end = first + count;
  const peakRss = new Map<number, number>();
  const fail = (line: string): void => {
    failed++;
    if (failures.length < 20) failures.push(line);
  };
  const start = performance.now();
  let lastReport = start;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const n = next++;
      const id = n % 10_000;
      const headers =
        n % 4 === 0
          ? { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` }
          : undefined;
      try {
        const res = await request(`${origin}/api/items/${id}`, { dispatcher: agent, headers });
        if (res.statusCode !== 200) {
          fail(`request ${n}: ${res.statusCode} ${(await res.body.text()).slice(0, 100)}`);
        } else if (n % 1000 === 0) {
          const body = (await res.body.json()) as { id?: unknown };
          if (body.id !== String(id)) fail(`request ${n}: answered ${JSON.stringify(body)}`);
        } else {
          await res.body.dump();
        }
      } catch (error) {
        fail(`request ${n}: ${String(error)}`);
      }
      completed++;
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        samplePeaks(pids, peakRss);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const ms = performance.now() - start;
  await agent.close();
  return { completed, failed, failures, ms, peakRss };
}

/** Keeps the highest RSS seen of each process, by pid. */
function samplePeaks(pids: readonly number[], peaks: Map<number, number>): void {
  for (const pid of pids) {
    try {
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, footprint(pid).rssKiB));
    } catch {
      // Exited: the test's own checks report it.
    }
  }
}

function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}

function percent(ratio: number): string {
  return `${ratio >= 0 ? '+' : ''}${(100 * ratio).toFixed(1)} %`;
}
