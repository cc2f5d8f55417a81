import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { EXAMPLE_SERVICE, startService } from '../support/service-process.ts';

test('warmup: readiness 503 naming the pool gate, then 200; liveness 200 throughout', async () => {
  const svc = await startService({ WARMUP_MS: '600' });
  try {
    const warming = await fetch(`${svc.url}/readyz?verbose`);
    assert.equal(warming.status, 503);
    assert.match(await warming.text(), /^\[-\]pool failed: warming$/m);
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    let status = 0;
    const deadline = Date.now() + 5000;
    while (status !== 200 && Date.now() < deadline) {
      await sleep(50);
      status = (await fetch(`${svc.url}/readyz`)).status;
    }
    assert.equal(status, 200);
    const orders = await fetch(`${svc.url}/api/users/42/orders`);
    assert.deepEqual(await orders.json(), { user: '42', orders: [{ id: 1, total: 9.5 }] });
    const posted = await fetch(`${svc.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'a', qty: 2 }] }),
    });
    assert.equal(posted.status, 201);
    const malformed = await fetch(`${svc.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"items": [',
    });
    assert.equal(malformed.status, 400);
    assert.doesNotMatch(await malformed.text(), /at |SyntaxError/);
  } finally {
    svc.kill('SIGKILL');
  }
});

test('SIGTERM under keep-alive load: 503 at once, liveness 200, nothing fails, exit 0 within budget', async () => {
  const delay = 1500;
  // 400 ms per request: the requests sent in the last moments of the delay are still in flight
  // when the server stops accepting, so their completion is exercised too.
  const svc = await startService({ WARMUP_MS: '100', SHUTDOWN_DELAY_MS: String(delay), LATENCY_MS: '400' });
  const agent = new Agent({ connections: 8, keepAliveTimeout: 4000, pipelining: 1 });
  let stopSending = false;
  try {
    while ((await fetch(`${svc.url}/readyz`)).status !== 200) await sleep(20);

    const failures: string[] = [];
    let completed = 0;
    let closedByServer = 0;
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; !stopSending; i++) {
        try {
          const res = await request(`${svc.url}/api/items/${id}-${i}`, { dispatcher: agent });
          const body = await res.body.text();
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}: ${body.slice(0, 80)}`);
          if (res.headers.connection === 'close') closedByServer++;
          completed++;
        } catch (error) {
          // One failure fails the test; a worker that kept going would spin on a dead socket
          // through microtasks alone, starving the timers that would end the test.
          failures.push(String(error));
          return;
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, id) => worker(id));
    await sleep(400);
    const signalledAt = Date.now();
    svc.kill('SIGTERM');

    // Readiness turns 503 at once; liveness stays 200 through the delay.
    let firstNotReadyMs = -1;
    const liveness: number[] = [];
    while (Date.now() - signalledAt < delay - 300) {
      const [ready, live] = await Promise.all([fetch(`${svc.url}/readyz`), fetch(`${svc.url}/healthz`)]);
      if (ready.status === 503 && firstNotReadyMs < 0) firstNotReadyMs = Date.now() - signalledAt;
      liveness.push(live.status);
      await sleep(100);
    }
    // Clients stop sending just before the delay ends, as they do once endpoints are removed;
    // requests sent until then are still in flight when the server stops accepting.
    await sleep(delay - 100 - (Date.now() - signalledAt));
    stopSending = true;
    await Promise.all(workers);

    const { code, at } = await svc.exited;
    assert.deepEqual(failures, [], `no request failed; service output:\n${svc.output.join('\n')}`);
    assert.ok(completed > 20, `completed ${completed}`);
    const inflightAtClose = Number(
      /stopped accepting; (\d+) request\(s\) in flight/.exec(svc.output.join('\n'))?.[1],
    );
    assert.ok(
      inflightAtClose > 0,
      `requests in flight when the server stopped accepting: ${inflightAtClose}`,
    );
    assert.ok(closedByServer > 0, 'draining responses carried Connection: close');
    assert.ok(
      firstNotReadyMs >= 0 && firstNotReadyMs < 300,
      `readiness failed ${firstNotReadyMs} ms after SIGTERM`,
    );
    assert.ok(liveness.length > 3 && liveness.every((s) => s === 200), `liveness: ${liveness.join(',')}`);
    assert.equal(code, 0);
    assert.ok(at - signalledAt < delay + 2000, `exited ${at - signalledAt} ms after SIGTERM`);
    assert.ok(at - signalledAt >= delay, 'served through the whole delay');
    const log = svc.output.join('\n');
    for (const phase of ['delay', 'close', 'drain', 'hooks', 'done'])
      assert.match(log, new RegExp(`shutdown ${phase} `));
  } catch (error) {
    throw new Error(`${String(error)}\nservice output:\n${svc.output.join('\n')}`, { cause: error });
  } finally {
    stopSending = true;
    svc.kill('SIGKILL');
    await agent.destroy();
  }
});

test('SIGINT (Ctrl-C) runs the same timeline and exits 0', async () => {
  const svc = await startService({ WARMUP_MS: '50' });
  try {
    while ((await fetch(`${svc.url}/readyz`)).status !== 200) await sleep(20);
    svc.kill('SIGINT');
    const { code } = await svc.exited;
    assert.equal(code, 0);
    assert.match(svc.output.join('\n'), /shutdown delay \+\d+ms SIGINT: readiness failing/);
  } finally {
    svc.kill('SIGKILL');
  }
});

test('bad configuration exits 2 with a one-line error naming the variable', () => {
  const run = spawnSync(process.execPath, [EXAMPLE_SERVICE], {
    env: { ...process.env, PORT: 'eighty\n<script>' },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(run.status, 2);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(
    run.stderr,
    /^example service: PORT must be a whole number from 0 to 65535, got "eighty\\n<script>"\n$/,
  );
});
