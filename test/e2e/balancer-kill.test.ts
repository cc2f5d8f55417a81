import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { startSteadyLoad } from '../support/balancer-load.ts';
import { type BalancerProcess, startBalancer, stateLine } from '../support/balancer-process.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// A backend that dies without warning (OOM kill, node lost): no 503 first, its connections just
// go. What the design promises, and what these tests hold it to:
// - a request the backend cannot have seen (connection refused) is tried on another backend if
//   it has no body (a streamed body cannot be sent twice);
// - a request whose connection broke before the answer (the backend may have acted on it) is
//   tried again only if it is idempotent (GET, HEAD, PUT, DELETE, ... or an Idempotency-Key);
// - anything else gets 502 from the balancer, never a silent second delivery.

test('SIGKILL of one of three backends under GET load: every request succeeds, the failures are retried', async () => {
  const services: ServiceProcess[] = [];
  let balancer: BalancerProcess | undefined;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 4000, pipelining: 1 });
  let load: ReturnType<typeof startSteadyLoad> | undefined;
  try {
    // 20 ms per request keeps a few requests in flight on each backend when one dies.
    for (let i = 0; i < 3; i++) services.push(await startService({ WARMUP_MS: '0', LATENCY_MS: '20' }));
    balancer = await startBalancer([
      '--listen=127.0.0.1:0',
      '--admin=127.0.0.1:0',
      ...services.flatMap((s) => ['--backend', s.url]),
      '--health-interval=200',
      '--health-timeout=150',
      '--slow-start-window=0',
    ]);
    const bal = balancer;
    await bal.waitFor('every backend ready', (r) => r.backends.every((b) => b.state === 'ready'));
    load = startSteadyLoad({
      origin: bal.url,
      path: (n) => `/api/items/${n}`,
      workers: 8,
      ratePerSecond: 300,
      dispatcher: agent,
    });
    await sleep(1000);
    const victim = services[0]!;
    const before = await bal.backend(victim.url);
    const from = bal.output.length;
    victim.kill('SIGKILL');
    const { signal } = await victim.exited;
    assert.equal(signal, 'SIGKILL');
    // The checks notice within `fall` (3) intervals; the failed requests may have ejected it first.
    await bal.waitFor(
      `${victim.url} out of rotation`,
      (r) => r.backends.some((b) => b.url === victim.url && (b.state === 'down' || b.ejected)),
      5000,
    );
    await sleep(1000);
    const report = await load.stop();
    load = undefined;
    const after = await bal.backends();
    const killed = after.backends.find((b) => b.url === victim.url)!;
    console.log(
      `SIGKILL under load: ${report.sent} GETs, ${report.failed} failed; killed backend: ${before.inFlight} in flight at the kill, ` +
        `retries=${killed.retries} failures=${killed.failures} ejections=${killed.ejections} state=${killed.state}\n  ` +
        bal.output.slice(from).join('\n  '),
    );
    assert.deepEqual(report.failures, [], `balancer output:\n${bal.output.join('\n')}`);
    assert.ok(report.sent > 500, `sent ${report.sent}`);
    assert.ok(killed.retries > 0, 'requests to the killed backend were retried elsewhere');
    assert.equal(killed.retries, killed.failures, 'every failure on the killed backend was retried');
    for (const b of after.backends)
      if (b.url !== victim.url) assert.equal(b.failures, 0, `${b.url} never failed`);
    assert.ok(bal.lineIndex(stateLine(victim.url, 'down'), from) >= 0, 'the checks took it down');
  } finally {
    await load?.stop();
    balancer?.kill('SIGKILL');
    for (const service of services) service.kill('SIGKILL');
    await agent.destroy();
  }
});

test('requests caught by a kill: GET retried, POST with a body answered 502, unsent POST without a body retried', async () => {
  // Maglev on a header pins each request to a known backend. Checks every 30 s keep the dead
  // backend in rotation for the whole test, so each request below really goes to it.
  const slow = await startService({ WARMUP_MS: '0', LATENCY_MS: '1500' });
  const other = await startService({ WARMUP_MS: '0' });
  let balancer: BalancerProcess | undefined;
  const agent = new Agent({ connections: 4, pipelining: 1 });
  try {
    balancer = await startBalancer([
      '--listen=127.0.0.1:0',
      '--admin=127.0.0.1:0',
      '--backend',
      slow.url,
      '--backend',
      other.url,
      '--algorithm=maglev',
      '--hash-header=x-key',
      '--health-interval=30s',
      '--health-timeout=1s',
      '--slow-start-window=0',
    ]);
    const bal = balancer;
    await bal.waitFor('both backends ready', (r) => r.backends.every((b) => b.state === 'ready'));
    const send = async (key: string, method: 'GET' | 'POST', body?: string) => {
      const res = await request(`${bal.url}${method === 'GET' ? '/api/items/1' : '/api/orders'}`, {
        method,
        dispatcher: agent,
        headers: { 'x-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body }),
      });
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    };
    const counts = async () => {
      const r = await bal.backends();
      const row = (url: string) => r.backends.find((b) => b.url === url)!;
      return { slow: row(slow.url), other: row(other.url) };
    };

    // A key that maps to the slow backend: sending it leaves the other backend's count as it was.
    let key: string | undefined;
    for (let i = 0; i < 40 && key === undefined; i++) {
      const before = (await counts()).other.requests;
      const candidate = `k${i}`;
      // GET / is a backend's plain-text greeting, not delayed by LATENCY_MS (which is /api only).
      await request(`${bal.url}/`, { dispatcher: agent, headers: { 'x-key': candidate } }).then((r) =>
        r.body.dump(),
      );
      if ((await counts()).other.requests === before) key = candidate;
    }
    assert.ok(key !== undefined, 'found a key for the slow backend');
    const k = key;

    const order = JSON.stringify({ items: [{ sku: 'a', qty: 1 }] });
    const get = send(k, 'GET');
    const post = send(k, 'POST', order);
    await bal.waitFor('both requests in flight on the slow backend', (r) =>
      r.backends.some((b) => b.url === slow.url && b.inFlight === 2),
    );
    const before = await counts();
    slow.kill('SIGKILL');
    await slow.exited;
    const [got, posted] = await Promise.all([get, post]);
    const afterKill = await counts();

    // The GET may have been acted on, but repeating it is harmless: another backend answers it.
    assert.equal(got.status, 200, got.body);
    // The POST may have been acted on (an order placed): not sent twice, the client is told.
    assert.equal(posted.status, 502, posted.body);
    assert.equal(posted.headers['x-readykit-error'], 'RK_ERR_BACKEND_FAILED');
    assert.equal(
      afterKill.other.requests - before.other.requests,
      1,
      'only the GET went to the other backend',
    );
    assert.equal(afterKill.slow.retries - before.slow.retries, 1, 'one retry: the GET');

    // Now the dead backend refuses connections: nothing was sent, so a POST without a body may go
    // elsewhere (the other backend answers it, 400 for the missing order)...
    const empty = await send(k, 'POST');
    assert.equal(empty.status, 400, `answered by the other backend: ${empty.body}`);
    // ... but a POST with a body is never retried, even refused: its body was streamed from the
    // client and is gone. 502, and the other backend never sees it.
    const refused = await send(k, 'POST', order);
    assert.equal(refused.status, 502, refused.body);
    const end = await counts();
    assert.equal(
      end.other.requests - afterKill.other.requests,
      1,
      'only the empty POST went to the other backend',
    );
    assert.equal(end.slow.retries - afterKill.slow.retries, 1, 'one retry: the empty POST');
    console.log(
      `kill with requests in flight: GET ${got.status}, POST ${posted.status}; refused: empty POST ${empty.status}, POST ${refused.status}; ` +
        `killed backend retries=${end.slow.retries} failures=${end.slow.failures} state=${end.slow.state}`,
    );
  } finally {
    balancer?.kill('SIGKILL');
    slow.kill('SIGKILL');
    other.kill('SIGKILL');
    await agent.destroy();
  }
});
