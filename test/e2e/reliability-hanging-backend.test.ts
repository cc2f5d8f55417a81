import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { quantile, runTimetable } from '../support/balancer-load.ts';
import { startBalancer } from '../support/balancer-process.ts';
import { startHangingBackend } from '../support/hanging-backend.ts';
import { startService } from '../support/service-process.ts';

// A backend that accepts connections and never answers, next to a healthy one, under open-loop
// traffic (requests go out on a timetable whether or not earlier ones have answered, so a
// pile-up would show as requests in flight growing without bound). What must hold: every
// request is answered, within the first-byte timeout plus scheduling noise; the hung backend
// is taken down by its readiness checks; and neither the balancer's requests in flight nor its
// connections to the hung backend grow past their bounds while it stays hung. Round robin, so
// that the hung backend keeps getting its half until it is taken down (P2C would shun it after
// its first slow request and leave little to pile up): at 100 requests a second each holding a
// connection for the whole timeout, it needs far more than its pool of BACKEND_CONNECTIONS.
const RATE = 200;
const FIRST_BYTE_MS = 300;
const BACKEND_CONNECTIONS = 8;
const HEALTH = { interval: 200, timeout: 150, fall: 2 };
/** Answers may come this much later than the timeout that bounds them, on a busy 2-core machine. */
const LATENESS_MS = 700;

test('a backend that accepts and never answers: bounded by timeouts, taken down, no pile-up', {
  timeout: 60_000,
}, async (t) => {
  const healthy = await startService({ WARMUP_MS: '0' });
  const hanging = await startHangingBackend();
  const agent = new Agent({ connections: 64, keepAliveTimeout: 4000 });
  t.after(async () => {
    healthy.kill('SIGKILL');
    await hanging.close();
    await agent.close();
    await healthy.exited;
  });
  const balancer = await startBalancer([
    '--listen=127.0.0.1:0',
    '--admin=127.0.0.1:0',
    '--backend',
    healthy.url,
    '--backend',
    hanging.url,
    '--algorithm=round-robin',
    '--slow-start-window=0',
    `--health-interval=${HEALTH.interval}`,
    `--health-timeout=${HEALTH.timeout}`,
    `--health-fall=${HEALTH.fall}`,
    `--first-byte-timeout=${FIRST_BYTE_MS}`,
    '--total-timeout=2000',
    `--backend-connections=${BACKEND_CONNECTIONS}`,
  ]);
  t.after(async () => {
    balancer.kill('SIGKILL');
    await balancer.exited;
  });
  await balancer.waitFor('both backends ready', (r) => r.backends.every((b) => b.state === 'ready'));
  const load = (durationMs: number) =>
    runTimetable({
      origin: balancer.url,
      path: (n) => `/api/items/${n}`,
      ratePerSecond: RATE,
      durationMs,
      dispatcher: agent,
    });
  const before = await load(1000);
  assert.deepEqual(before.failures, [], 'both backends answer before the hang');
  assert.ok(
    (await balancer.backend(hanging.url)).requests > 0,
    'the hanging backend took traffic before it hung',
  );

  // Hung, under load for 8 s; sampled every 100 ms.
  const samples: { at: number; open: number; inFlight: number; state: string }[] = [];
  const hungAt = performance.now();
  hanging.hang();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const report = await balancer.backends();
      samples.push({
        at: performance.now() - hungAt,
        open: hanging.open,
        inFlight: report.inFlight,
        state: report.backends.find((b) => b.url === hanging.url)!.state,
      });
      await sleep(100);
    }
  })();
  const during = await load(8000);
  sampling = false;
  await sampler;
  const after = await load(2000);

  const downAt = samples.find((s) => s.state === 'down')?.at;
  const maxOpen = Math.max(...samples.map((s) => s.open));
  const maxInFlight = Math.max(...samples.map((s) => s.inFlight));
  const lastSecond = samples.filter((s) => s.at > samples.at(-1)!.at - 1000);
  const statuses = [...during.statuses].map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(
    `hung backend: taken down ${downAt?.toFixed(0)} ms after it hung; during 8 s at ${RATE}/s: ${statuses}, ` +
      `p50 ${quantile(during.latencies, 0.5).toFixed(1)} ms, p99 ${quantile(during.latencies, 0.99).toFixed(1)} ms, ` +
      `max ${quantile(during.latencies, 1).toFixed(1)} ms; connections open at the hung backend max ${maxOpen} ` +
      `(accepted ${hanging.accepted} in all), balancer in flight max ${maxInFlight}; ` +
      `afterwards ${after.sent - after.failed}/${after.sent} answered 200`,
  );

  // Every request answered: 200 from the healthy backend, or the balancer's 504 when the hung
  // one held it past the first-byte timeout; never later than that timeout allows.
  assert.equal(during.sent, (RATE * 8000) / 1000);
  for (const [status] of during.statuses)
    assert.ok(status === 200 || status === 504, `status ${status}: ${during.failures[0]}`);
  assert.ok(
    quantile(during.latencies, 1) < FIRST_BYTE_MS + LATENESS_MS,
    `slowest answer ${quantile(during.latencies, 1).toFixed(0)} ms, first-byte timeout ${FIRST_BYTE_MS} ms`,
  );
  // Taken down by readiness checks: `fall` probes, each given up after `timeout`.
  assert.ok(downAt !== undefined, `never taken down; last state ${samples.at(-1)?.state}`);
  const downBound = HEALTH.fall * HEALTH.interval * 1.1 + HEALTH.timeout + LATENESS_MS;
  assert.ok(downAt < downBound, `taken down after ${downAt.toFixed(0)} ms (bound ${downBound} ms)`);
  // The 504s are the requests routed there before it was down: at most the rate times that window.
  const timedOut = during.statuses.get(504) ?? 0;
  assert.ok(
    timedOut <= (RATE * (downAt + FIRST_BYTE_MS)) / 1000,
    `${timedOut} requests timed out, more than were sent before the backend was down`,
  );
  // No pile-up: pooled connections capped, timed-out ones closed, one probe connection at a
  // time (plus one being torn down); nothing in flight beyond what a timeout-bounded request allows.
  assert.ok(maxOpen <= BACKEND_CONNECTIONS + 2, `${maxOpen} connections open at the hung backend`);
  assert.ok(
    Math.max(...lastSecond.map((s) => s.open)) <= 2,
    `connections still open at the hung backend once it is down: ${lastSecond.map((s) => s.open).join(', ')}`,
  );
  const inFlightBound = Math.ceil((RATE * (FIRST_BYTE_MS + LATENESS_MS)) / 1000);
  assert.ok(
    maxInFlight <= inFlightBound,
    `balancer in flight reached ${maxInFlight} (bound ${inFlightBound})`,
  );
  assert.deepEqual(after.failures, [], 'once it is down every request goes to the healthy backend');
  assert.equal((await balancer.backend(hanging.url)).state, 'down');
});
