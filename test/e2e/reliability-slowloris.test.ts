import assert from 'node:assert/strict';
import { availableParallelism, loadavg } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { type LoadReport, quantile, runTimetable } from '../support/balancer-load.ts';
import { type BalancerProcess, startBalancer } from '../support/balancer-process.ts';
import { openIdleConnections, startSlowloris } from '../support/idle-connection-swarm.ts';
import { openFileLimit } from '../support/process-footprint.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// Thousands of idle keep-alive connections and a few hundred slowloris connections (a header
// byte a second each, never finishing) held against the balancer's listener must not slow
// normal traffic: its p99 stays within 2 × the unloaded figure. Measured side by side: two
// identical balancers in front of the same services take the same open-loop load at the same
// time, only one of them under the swarm, so that whatever else the machine is doing weighs on
// both figures alike (one after the other, a busy 2-core machine moves p99 by more than 2 ×
// between two runs of the same load). Then the slowloris connections must be cut by the header
// timeout.
const IDLE = 2500;
const SLOW = 300;
const RATE = 200;
const MEASURE_MS = 5000;
/** Longer than opening the swarm plus the measurement: every slowloris connection is there throughout. */
const HEADER_TIMEOUT_MS = 10_000;
/**
 * Node checks header timeouts on a timer (`connectionsCheckingInterval`; the balancer sets it to
 * 1 s), so a slow client is cut between the timeout and the timeout plus this.
 */
const NODE_CHECK_INTERVAL_MS = 1000;
/** Descriptors this process and the balancer need besides the swarm's (listeners, pools, pipes). */
const FD_MARGIN = 500;

test(`${IDLE} idle and ${SLOW} slowloris connections: normal traffic keeps its p99 within 2 ×`, {
  timeout: 3 * 60_000,
}, async (t) => {
  const services: ServiceProcess[] = [];
  const balancers: BalancerProcess[] = [];
  const agent = new Agent({ connections: 64, keepAliveTimeout: 4000 });
  t.after(async () => {
    for (const b of balancers) b.kill('SIGKILL');
    for (const s of services) s.kill('SIGKILL');
    await agent.close();
    await Promise.all([...balancers, ...services].map((p) => p.exited));
  });
  services.push(await startService({ WARMUP_MS: '0' }), await startService({ WARMUP_MS: '0' }));
  for (let i = 0; i < 2; i++) {
    balancers.push(
      await startBalancer([
        '--listen=127.0.0.1:0',
        '--admin=127.0.0.1:0',
        ...services.flatMap((s) => ['--backend', s.url]),
        '--slow-start-window=0',
        `--client-header-timeout=${HEADER_TIMEOUT_MS}`,
        // Idle keep-alive connections may stay for the whole test: holding them is the point.
        '--client-idle-timeout=120s',
      ]),
    );
  }
  const attacked = balancers[0]!;
  for (const b of balancers) {
    await b.waitFor('both backends ready', (r) => r.backends.every((x) => x.state === 'ready'));
  }

  // Node raises its soft limit on open files to the hard one at start; both ends of every
  // swarm connection are on this machine, one in this process and one in the balancer.
  const limit = Math.min(openFileLimit().soft, openFileLimit(attacked.child.pid!).soft);
  const idleCount = Math.min(IDLE, Math.max(0, limit - SLOW - FD_MARGIN));
  if (idleCount < IDLE) {
    console.warn(`\n*** open-file limit ${limit}: holding ${idleCount} idle connections, not ${IDLE} ***\n`);
  }
  assert.ok(
    idleCount >= 1000,
    `the open-file limit (${limit}) leaves room for only ${idleCount} idle connections`,
  );

  /** The same open-loop load through both balancers at once. */
  const sideBySide = (durationMs: number): Promise<LoadReport[]> =>
    Promise.all(
      balancers.map((b) =>
        runTimetable({
          origin: b.url,
          path: (n) => `/api/items/${n}`,
          ratePerSecond: RATE,
          durationMs,
          dispatcher: agent,
        }),
      ),
    );
  await sideBySide(2000); // warm-up: JIT, pools; not judged
  const [before, twinBefore] = (await sideBySide(MEASURE_MS)) as [LoadReport, LoadReport];

  const opening = performance.now();
  const port = Number(new URL(attacked.url).port);
  const slow = await startSlowloris(port, SLOW, 1000);
  const idle = await openIdleConnections(port, idleCount, '/api/items/0');
  t.after(() => {
    slow.close();
    idle.close();
  });
  const openedMs = performance.now() - opening;
  const [loaded, twinLoaded] = (await sideBySide(MEASURE_MS)) as [LoadReport, LoadReport];
  const heldIdle = idle.open;
  const heldSlow = slow.open;

  const p99 = (r: LoadReport): number => quantile(r.latencies, 0.99);
  const describe = (r: LoadReport): string =>
    `p50 ${quantile(r.latencies, 0.5).toFixed(2)} ms, p99 ${p99(r).toFixed(2)} ms, max ${quantile(r.latencies, 1).toFixed(1)} ms`;
  console.log(
    `normal traffic at ${RATE}/s for ${MEASURE_MS / 1000} s through each of two balancers at once (load average ` +
      `${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs):\n` +
      `  no swarm:   ${describe(before)} | twin ${describe(twinBefore)}\n` +
      `  with ${heldIdle} idle and ${heldSlow} slowloris connections on the first (opened in ${openedMs.toFixed(0)} ms): ` +
      `${describe(loaded)} | twin, unloaded ${describe(twinLoaded)}; ratio ${(p99(loaded) / p99(twinLoaded)).toFixed(2)}`,
  );
  for (const r of [before, twinBefore, loaded, twinLoaded]) assert.deepEqual(r.failures, []);
  // The load was really there for the whole measurement.
  assert.equal(heldIdle, idleCount, 'idle connections were closed during the measurement');
  assert.equal(heldSlow, SLOW, 'slowloris connections were cut before the header timeout');
  assert.ok(
    p99(loaded) <= 2 * p99(twinLoaded),
    `p99 ${p99(loaded).toFixed(2)} ms under the swarm against ${p99(twinLoaded).toFixed(2)} ms on its unloaded twin`,
  );

  // Cut by the header timeout: not before it, and no later than Node's next check after it.
  idle.close();
  const cutBy = HEADER_TIMEOUT_MS + NODE_CHECK_INTERVAL_MS + 2000;
  while (slow.open > 0 && performance.now() - opening < cutBy) await sleep(100);
  const cuts = [...slow.closedAfterMs].sort((a, b) => a - b);
  console.log(
    `slowloris: ${cuts.length}/${SLOW} cut by the balancer, ${cuts[0]?.toFixed(0)} to ${cuts.at(-1)?.toFixed(0)} ms ` +
      `after connecting (header timeout ${HEADER_TIMEOUT_MS} ms)`,
  );
  assert.equal(cuts.length, SLOW, `${slow.open} slowloris connections still open after ${cutBy} ms`);
  assert.ok(cuts[0]! >= HEADER_TIMEOUT_MS - 100, `a slowloris connection was cut after ${cuts[0]} ms`);
  const [after] = (await sideBySide(1000)) as [LoadReport];
  assert.deepEqual(after.failures, [], 'the balancer serves normally once the swarm is gone');
});
