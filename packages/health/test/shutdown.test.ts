import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, type ShutdownEvent } from '../src/index.ts';
import { deferred, serve, testHealth } from './support.ts';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** A served Health whose app answers /slow only when `release` resolves. */
async function fixture(shutdown: Record<string, number>, hooks = {}) {
  const health = testHealth({ shutdown, hooks });
  const release = deferred();
  const served = await serve((req, res) => {
    if (health.handle(req, res)) return;
    if (req.url === '/slow') void release.promise.then(() => res.end('slow done'));
    else res.end('fast');
  });
  health.attach(served.server);
  await health.whenReady();
  const events: ShutdownEvent[] = [];
  health.on('shutdown', (e) => events.push(e));
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  return { health, served, release, events, agent };
}

test('the timeline: 503 at once, serve through the delay with Connection: close, drain, hooks, stop', async () => {
  const order: string[] = [];
  const { health, served, release, events, agent } = await fixture(
    { delay: 300, drainTimeout: 2000 },
    { first: () => order.push('first'), second: async () => order.push('second') },
  );
  const states: string[] = [];
  health.subscribe((c) => states.push(c.to));
  // A keep-alive request in flight across the whole shutdown.
  const slow = get(`${served.url}/slow`, agent);
  await sleep(20);
  const done = health.shutdown('test');
  assert.equal(health.state, 'draining');

  // During the delay new requests are still served, each told to close its connection.
  const during = await get(`${served.url}/fast`, agent);
  assert.deepEqual([during.status, during.body, during.connection], [200, 'fast', 'close']);
  const ready = await get(`${served.url}/readyz`, agent);
  assert.equal(ready.status, 503);
  const live = await get(`${served.url}/healthz`, agent);
  assert.equal(live.status, 200);

  await sleep(350);
  assert.equal(served.server.listening, false, 'stopped accepting after the delay');
  release.resolve();
  const answer = await slow;
  assert.deepEqual([answer.status, answer.body, answer.connection], [200, 'slow done', 'close']);

  const result = await done;
  assert.equal(result.exitCode, 0);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(order, ['first', 'second']);
  assert.deepEqual(states, ['draining', 'stopped']);
  assert.deepEqual(
    events.map((e) => e.phase),
    ['delay', 'close', 'drain', 'hooks', 'done'],
  );
  assert.ok(events[1]!.elapsed >= 290, `closed at +${events[1]!.elapsed} ms`);
  assert.equal(health.shutdown(), health.shutdown(), 'idempotent');
  agent.destroy();
  await health.close();
});

test('idle keep-alive sockets are closed when the server stops accepting', async () => {
  const { health, served, agent } = await fixture({ delay: 0, drainTimeout: 500 });
  await get(`${served.url}/fast`, agent);
  const [socket] = Object.values(agent.freeSockets).flat();
  assert.ok(socket, 'the agent pooled an idle socket');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await health.shutdown('test');
  await closed;
  agent.destroy();
  await health.close();
});

test("during the delay, a response that finishes does not close other clients' idle pooled sockets", async () => {
  const { health, served, release, agent } = await fixture({ delay: 400, drainTimeout: 1000 });
  const other = new Agent({ keepAlive: true });
  await get(`${served.url}/fast`, other);
  const [pooled] = Object.values(other.freeSockets).flat();
  assert.ok(pooled, 'the other client pooled an idle socket');
  let closedEarly = false;
  pooled.once('close', () => {
    closedEarly = true;
  });
  const slow = get(`${served.url}/slow`, agent);
  await sleep(20);
  const done = health.shutdown('test');
  await sleep(50);
  release.resolve();
  assert.equal((await slow).body, 'slow done');
  await sleep(100);
  assert.equal(closedEarly, false, 'the idle socket stays open while the delay runs');
  // A request sent on it during the delay is answered, with Connection: close.
  const reused = await get(`${served.url}/fast`, other);
  assert.deepEqual([reused.status, reused.connection], [200, 'close']);
  await done;
  other.destroy();
  agent.destroy();
  await health.close();
});

test('requests still in flight at the drain timeout are cut off and the exit code is 1', async () => {
  const { health, served, release, agent } = await fixture({ delay: 0, drainTimeout: 150 });
  const slow = get(`${served.url}/slow`, agent).catch((e: Error) => e);
  await sleep(20);
  const result = await health.shutdown('test');
  assert.equal(result.exitCode, 1);
  assert.equal(result.abandoned, 1);
  assert.deepEqual(result.problems, ['drainTimeout (150 ms) exceeded with 1 request(s) in flight']);
  assert.ok((await slow) instanceof Error, 'the abandoned request was cut');
  release.resolve();
  agent.destroy();
  await health.close();
});

test('each hook has its own timeout; a failing or slow hook does not stop the next one', async () => {
  const ran: string[] = [];
  const { health, agent } = await fixture(
    { delay: 0, drainTimeout: 100, hookTimeout: 1000 },
    {
      hangs: { hook: () => new Promise(() => ran.push('hangs')), timeout: 100 },
      throws: () => {
        ran.push('throws');
        throw new Error('flush failed\n  at stack');
      },
      fine: () => ran.push('fine'),
    },
  );
  const started = Date.now();
  const result = await health.shutdown('test');
  assert.ok(Date.now() - started < 900, 'the hanging hook was cut at its own timeout');
  assert.deepEqual(ran, ['hangs', 'throws', 'fine']);
  assert.equal(result.exitCode, 1);
  assert.deepEqual(result.problems, [
    'hook hangs timed out after 100 ms',
    'hook throws failed: flush failed',
  ]);
  agent.destroy();
  await health.close();
});

test('a hook that would overflow the grace period is refused when added', async () => {
  const health = testHealth({ shutdown: { delay: 5000, drainTimeout: 20_000, hookTimeout: 3000 } });
  health.onShutdown('one', () => {});
  assert.throws(() => health.onShutdown('two', () => {}), {
    code: ErrorCodes.SHUTDOWN_BUDGET,
    message: /= 31000 ms does not fit shutdown\.terminationGracePeriod \(30000 ms\)/,
  });
  assert.throws(() => health.onShutdown('one', () => {}), { code: ErrorCodes.DUPLICATE_NAME });
  await health.close();
});

test('shutdown while warming goes straight to draining', async () => {
  const health = testHealth({ gates: ['db'], shutdown: { delay: 0 } });
  health.start();
  assert.equal(health.state, 'warming');
  const result = await health.shutdown('test');
  assert.equal(result.exitCode, 0);
  assert.equal(health.state, 'stopped');
  assert.throws(() => health.addGate('late'), { code: ErrorCodes.LIFECYCLE });
  await health.close();
});
