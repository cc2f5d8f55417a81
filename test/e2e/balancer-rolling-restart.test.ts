import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { startSteadyLoad } from '../support/balancer-load.ts';
import { type BalancerProcess, startBalancer, stateLine } from '../support/balancer-process.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// What a Kubernetes rollout does to a Deployment of three: each pod in turn gets SIGTERM, keeps
// serving through its shutdown delay while its readiness says 503, exits, and its replacement
// warms up on the same address. The balancer must take each one out on its 503 before it stops
// accepting, and back in once it is ready, without a client ever seeing an error.
const SERVICE_ENV = { WARMUP_MS: '400', SHUTDOWN_DELAY_MS: '1000' };
const RATE = 400;

test('rolling restart of three services under steady load: no request fails, each drains and comes back', async () => {
  const services: ServiceProcess[] = [];
  let balancer: BalancerProcess | undefined;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 4000, pipelining: 1 });
  let load: ReturnType<typeof startSteadyLoad> | undefined;
  try {
    for (let i = 0; i < 3; i++) services.push(await startService(SERVICE_ENV));
    const urls = services.map((s) => s.url);
    balancer = await startBalancer([
      '--listen=127.0.0.1:0',
      '--admin=127.0.0.1:0',
      ...urls.flatMap((url) => ['--backend', url]),
      '--algorithm=p2c-ewma',
      '--health-interval=200',
      '--health-timeout=150',
      // A real ramp, short enough that the last replacement is through it before the load stops.
      '--slow-start-window=2s',
    ]);
    const bal = balancer;
    await bal.waitFor('every backend ready', (r) => r.backends.every((b) => b.state === 'ready'));

    load = startSteadyLoad({
      origin: bal.url,
      path: (n) => `/api/items/${n}`,
      workers: 4,
      ratePerSecond: RATE,
      dispatcher: agent,
    });
    await sleep(500);

    const requestsWhenBack = new Map<string, number>();
    const timeline: string[] = [];
    for (let i = 0; i < services.length; i++) {
      const old = services[i]!;
      const url = old.url;
      const from = bal.output.length;
      const signalledAt = Date.now();
      old.kill('SIGTERM');
      const drainingAt = await bal.waitForLine(stateLine(url, 'draining'), from, 5000);
      const drainSeenMs = Date.now() - signalledAt;
      const { code, at } = await old.exited;
      assert.equal(code, 0, `service ${url} exit code; output:\n${old.output.join('\n')}`);
      // The balancer must have seen the 503 while the service was still serving its delay.
      assert.ok(drainSeenMs < 1000, `${url}: draining seen ${drainSeenMs} ms after SIGTERM`);

      const port = new URL(url).port;
      const replacement = await startService({ ...SERVICE_ENV, PORT: port });
      services[i] = replacement;
      assert.equal(replacement.url, url, 'the replacement listens on the same address');
      await bal.waitForLine(stateLine(url, 'ready'), drainingAt, 10_000);
      const row = (
        await bal.waitFor(`${url} ready again`, (r) =>
          r.backends.some((b) => b.url === url && b.state === 'ready'),
        )
      ).backends.find((b) => b.url === url)!;
      requestsWhenBack.set(url, row.requests);
      timeline.push(
        `${url}: draining +${drainSeenMs} ms, exited +${at - signalledAt} ms, ready again +${Date.now() - signalledAt} ms`,
      );
    }
    // Let the last replacement through its slow start, and then some.
    await sleep(3000);
    const report = await load.stop();
    load = undefined;
    const final = await bal.backends();
    const perBackend = final.backends.map(
      (b) =>
        `${b.url} ${b.state} requests=${b.requests} after restart=${b.requests - requestsWhenBack.get(b.url)!} retries=${b.retries}`,
    );
    console.log(
      `rolling restart: ${report.sent} requests, ${report.failed} failed, ${final.backends.reduce((n, b) => n + b.retries, 0)} retried\n  ${timeline.join('\n  ')}\n  ${perBackend.join('\n  ')}`,
    );

    assert.deepEqual(report.failures, [], `balancer output:\n${bal.output.join('\n')}`);
    assert.deepEqual([...report.statuses.keys()], [200]);
    assert.ok(report.sent > 2500, `sent ${report.sent} requests`);
    for (const b of final.backends) {
      assert.equal(b.state, 'ready', `${b.url} ends ready`);
      const after = b.requests - requestsWhenBack.get(b.url)!;
      assert.ok(after > 0, `${b.url} served ${after} requests after its restart`);
    }
    for (const url of urls) {
      // Each went draining (its 503) before anything else: never down with requests failing.
      const lines = bal.output.filter((line) => line.startsWith(`backend ${url} `));
      assert.equal(lines[1], `backend ${url} draining`, `${url} state changes: ${lines.join(', ')}`);
      assert.equal(lines.at(-1), `backend ${url} ready`);
    }
  } finally {
    await load?.stop();
    balancer?.kill('SIGKILL');
    for (const service of services) service.kill('SIGKILL');
    await agent.destroy();
  }
});
