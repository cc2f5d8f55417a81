import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { fetch } from 'undici';
import { BalancedDispatcher } from '../../src/client/balanced-dispatcher.ts';
import { busyWait } from '../support/busy-wait.ts';
import { until } from '../support/test-backend.ts';
import { allReady, ORIGIN } from './dispatcher-fixture.ts';

// A backend in its own process, so it answers while this one is blocked.
const BACKEND = `
  import { createServer } from 'node:http';
  const server = createServer((req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  process.stdin.on('end', () => process.exit(0)).resume();
`;

async function startBackendProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BACKEND], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [port] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${Number(port.toString())}`, child };
}

test("a stall of the caller's own event loop is not taken for the backends' latency", async (t) => {
  const backends = await Promise.all([startBackendProcess(), startBackendProcess()]);
  t.after(() => {
    for (const b of backends) b.child.kill('SIGKILL');
  });
  const registry = new Registry();
  const d = new BalancedDispatcher({
    origin: ORIGIN,
    backends: backends.map((b) => b.url),
    healthCheck: { interval: '100ms' },
    slowStart: { window: 0 },
    // Every backend gets calls, so each has an estimate; the estimates are what is checked.
    algorithm: 'round-robin',
    registry,
  });
  t.after(() => d.destroy());
  await allReady(d, 2);
  const call = async (): Promise<number> => {
    const started = performance.now();
    await (await fetch(`${ORIGIN}/item`, { dispatcher: d })).text();
    return performance.now() - started;
  };
  for (let i = 0; i < 40; i++) await call(); // both backends have estimates now
  const all = [...d.cluster.backends.all()];
  assert.ok(
    all.every((b) => b.ewma.observed),
    'both backends observed',
  );

  // Four calls in flight, then this process blocks 80 ms: the answers wait unread in their sockets.
  const calls = Array.from({ length: 4 }, call);
  await until(() => d.inFlight === 4, 2000, 'four calls in flight');
  busyWait(80);
  const durations = await Promise.all(calls);
  const now = performance.now();
  const estimates = all.map((b) => b.ewma.estimate(now));
  t.diagnostic(
    `call durations ${durations.map((ms) => ms.toFixed(1)).join(', ')} ms; estimates ${estimates.map((ms) => ms.toFixed(2)).join(', ')} ms`,
  );
  // The stall reached the calls: the caller waited as long as it was blocked...
  assert.ok(Math.min(...durations) >= 70, `calls took ${durations.join(', ')} ms`);
  // ...but no backend's latency estimate took it in (one sample of 80 ms would replace it: peak).
  for (const ms of estimates) assert.ok(ms < 20, `an estimate took the stall in: ${estimates.join(', ')} ms`);
  // And the skipped samples are counted where an operator sees them.
  const skipped = d.cluster.latencySamplesSkipped;
  assert.ok(skipped >= 4, `${skipped} samples skipped`);
  const exposition = await registry.metrics();
  assert.match(
    exposition,
    new RegExp(`^readykit_balancer_latency_samples_skipped_total\\{upstream="[^"]*"\\} ${skipped}$`, 'm'),
  );
});
