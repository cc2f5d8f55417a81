// Records what @godaddy/terminus 4.12.1 (lib/terminus.js, with stoppable 1.1) does that made
// readykit run its own shutdown. Each test asserts terminus's current behaviour, so it fails,
// and the table in TERMINUS.md needs a look, the day terminus changes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from './support.ts';
import { BOUND, child, get, withTerminus } from './terminus-support.ts';

test('(a) once shutdown starts, the liveness route answers 503 as well as readiness', BOUND, async (t) => {
  // Breaks: liveness stays 200 while draining, or the kubelet restarts a pod that is stopping cleanly.
  const c = await child(
    t,
    `createTerminus(server, {
      healthChecks: { '/healthz': async () => {}, '/readyz': async () => {} },
      beforeShutdown: () => { send('shutting down'); return new Promise(() => {}); },
    });`,
  );
  assert.equal((await get(c.port, '/healthz')).status, 200);
  c.send('SIGTERM');
  await c.next('shutting down');
  const live = await get(c.port, '/healthz');
  assert.deepEqual([live.status, live.body], [503, '{"status":"error"}']);
  assert.equal((await get(c.port, '/readyz')).status, 503);
});

test(
  '(b) health routes match the exact req.url: a query string falls through to the app',
  BOUND,
  async (t) => {
    // Breaks: probes answer on their path with any query (`?verbose`, `?exclude=`), like kube-apiserver.
    const served = await serve((_req, res) => res.end('app'));
    t.after(() => served.close());
    const port = withTerminus(t, served.server, { healthChecks: { '/healthz': async () => {} } });
    assert.deepEqual((await get(port, '/healthz')).body, '{"status":"ok"}');
    for (const path of ['/healthz?verbose', '/healthz/', '/HEALTHZ'])
      assert.deepEqual((await get(port, path)).body, 'app', path);
  },
);

test(
  '(c) onSignal has no timeout: a hook that never settles keeps shutdown from finishing',
  BOUND,
  async (t) => {
    // Breaks: every cleanup hook runs under its own timeout, so shutdown ends inside the grace period.
    const c = await child(
      t,
      `createTerminus(server, {
      timeout: 100,
      onSignal: () => { send('onSignal'); return new Promise(() => {}); },
      onShutdown: async () => send('onShutdown'),
    });`,
    );
    c.send('SIGTERM');
    await c.next('onSignal');
    // Ten times terminus's own `timeout`: nothing in terminus would end the process meanwhile.
    const outcome = await Promise.race([
      c.ended.then(() => 'ended'),
      c.next('onShutdown').then(() => 'onShutdown'),
      sleep(1_000, 'still shutting down'),
    ]);
    assert.equal(outcome, 'still shutting down');
  },
);

test(
  '(d) a keep-alive response in flight when shutdown starts goes out with Connection: keep-alive',
  BOUND,
  async (t) => {
    // Breaks: responses sent while draining carry `Connection: close`, so pooled clients never reuse
    // a socket the server is about to end (the ECONNRESET race).
    const c = await child(
      t,
      `createTerminus(server, {
      beforeShutdown: async () => { await release(); send('released'); },
      onSignal: () => new Promise(() => {}), // keeps the child alive: only terminus can end the socket
    });`,
    );
    const agent = new Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const pooled = once(agent, 'free').then(([socket]) => socket as Socket);
    const slow = get(c.port, '/slow', agent);
    await c.next('inflight');
    c.send('SIGTERM');
    await c.next('released');
    const reply = await slow;
    assert.deepEqual([reply.status, reply.body], [200, 'slow done']);
    assert.equal(reply.headers.connection, 'keep-alive');
    // ...and then the server ends that socket while the client holds it in its pool for reuse.
    await once(await pooled, 'close');
  },
);

test(
  '(e) after a clean shutdown terminus re-raises the signal: the process dies by SIGTERM, not exit 0',
  BOUND,
  async (t) => {
    // Breaks: the exit code tells the outcome, 0 for a clean shutdown and 1 when a budget was exceeded.
    const c = await child(t, 'createTerminus(server, {});');
    c.send('SIGTERM');
    assert.deepEqual(await c.ended, { code: null, signal: 'SIGTERM' });
  },
);

test(
  '(e) the re-raised signal is swallowed by any other SIGTERM listener, and the process never exits',
  BOUND,
  async (t) => {
    // Breaks: the process always ends once shutdown is done, whoever else listens for signals.
    const c = await child(
      t,
      `createTerminus(server, {});
    let calls = 0;
    // Another library's listener, e.g. an APM agent, or readykit's own if left installed.
    process.on('SIGTERM', () => { if (++calls === 2) send('swallowed'); });`,
    );
    c.send('SIGTERM');
    await c.next('swallowed');
    assert.deepEqual([c.process.exitCode, c.process.signalCode], [null, null]);
  },
);

test('(e) a shutdown hook that throws makes terminus exit 1 and skip onShutdown', BOUND, async (t) => {
  // Breaks: one failed cleanup step must not skip the others.
  const c = await child(
    t,
    `createTerminus(server, {
      onSignal: async () => { throw new Error('flush failed'); },
      onShutdown: async () => send('onShutdown'),
      logger: (msg, error) => send('log', { msg, error: error.message }),
    });`,
  );
  c.send('SIGTERM');
  assert.deepEqual(await c.next('log'), {
    type: 'log',
    msg: 'error happened during shutdown',
    error: 'flush failed',
  });
  assert.deepEqual(await c.ended, { code: 1, signal: null });
  await assert.rejects(c.next('onShutdown'), /child ended/);
});
