// terminusOptions() with real terminus 4.12.1 on real sockets. What needs a signal runs in a
// child Node, so the test runner never has terminus shut it down.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { type TestContext, test } from 'node:test';
import { terminusOptions } from '../src/terminus-adapter.ts';
import { serveHealth, testHealth } from './support.ts';
import { BOUND, type Child, type ChildOptions, child, get, withTerminus } from './terminus-support.ts';

// Children load readykit from source, as this runner does, and import the two entry points under test.
const READYKIT: ChildOptions = {
  flags: ['--conditions=readykit-source'],
  imports: `import { createHealth } from '@readykit/health';
import { terminusOptions } from '@readykit/health/terminus';`,
};

/**
 * A test whose child runs readykit under terminus: `health` is `createHealth(options)` (source
 * text, since hooks are functions) attached to `server`, then `setup`; `body` drives the child.
 * The signal tests differ only in those.
 */
function childTest(
  name: string,
  options: string,
  setup: string,
  body: (c: Child, t: TestContext) => Promise<void>,
): void {
  test(name, BOUND, async (t) => {
    const source = `const health = createHealth(${options});\nhealth.attach(server);\n${setup}`;
    await body(await child(t, source, READYKIT), t);
  });
}

test(
  'readiness is 503 while a gate is closed and 200 once it opens; liveness is 200 throughout',
  BOUND,
  async (t) => {
    const health = testHealth({ gates: ['cache'], eventLoop: false });
    t.after(() => health.close());
    const served = await serveHealth(health);
    t.after(() => served.close());
    const port = withTerminus(t, served.server, terminusOptions(health));

    const closed = await get(port, '/readyz');
    assert.equal(closed.status, 503);
    assert.equal(closed.headers['cache-control'], 'no-store');
    const body = JSON.parse(closed.body);
    assert.equal(body.status, 'error');
    assert.deepEqual(body.error.shutdown, { status: 'pass' });
    assert.equal(body.error.cache.status, 'fail');
    for (const path of ['/healthz', '/livez']) assert.equal((await get(port, path)).status, 200, path);

    health.gate('cache').open();
    await health.whenReady();
    const open = await get(port, '/readyz');
    assert.deepEqual(JSON.parse(open.body), {
      status: 'ok',
      info: { shutdown: { status: 'pass' }, cache: { status: 'pass' } },
      details: { shutdown: { status: 'pass' }, cache: { status: 'pass' } },
    });
    // terminus matches exact URLs only; the app's health.handle() answers the rest.
    assert.equal(
      (await get(port, '/readyz?verbose')).body,
      '[+]shutdown ok\n[+]cache ok\nreadiness check passed\n',
    );
  },
);

test(
  'a failing readiness check answers 503 with its reason (unless withheld); a non-critical one passes with a warning',
  BOUND,
  async (t) => {
    const cases = [
      { critical: true, expose: true, status: 503, entry: { status: 'fail', reason: 'connection refused' } },
      { critical: false, expose: true, status: 200, entry: { status: 'warn', reason: 'connection refused' } },
      { critical: true, expose: false, status: 503, entry: { status: 'fail', reason: 'reason withheld' } },
    ];
    for (const { critical, expose, status, entry } of cases) {
      const check = (): never => {
        throw new Error('connection refused');
      };
      const health = testHealth({
        readiness: { db: { check, critical } },
        exposeReasons: expose,
        eventLoop: false,
      });
      t.after(() => health.close());
      const served = await serveHealth(health);
      t.after(() => served.close());
      const port = withTerminus(t, served.server, terminusOptions(health));
      await health.whenReady();
      const ready = await get(port, '/readyz');
      assert.equal(ready.status, status);
      assert.deepEqual(JSON.parse(ready.body)[critical ? 'error' : 'info'].db, entry);
      assert.equal((await get(port, '/healthz')).status, 200, 'a readiness failure never fails liveness');
    }
  },
);

test(
  "serves readykit's paths, maps its shutdown settings and takes its signal handlers away",
  BOUND,
  async (t) => {
    const listeners = (): number => process.listenerCount('SIGINT');
    const baseline = listeners();
    const health = testHealth({
      paths: { liveness: ['/live'], readiness: ['/ready'] },
      shutdown: { signals: ['SIGINT'], drainTimeout: 1234, exit: true },
      eventLoop: false,
    });
    t.after(() => health.close());
    assert.equal(listeners(), baseline + 1, "readykit's own handler");
    const options = terminusOptions(health, { statusError: 500, healthChecks: { '/extra': async () => {} } });
    assert.equal(listeners(), baseline, 'detached: one signal must never start two timelines');
    const { healthChecks, beforeShutdown, onSignal, ...settings } = options;
    assert.deepEqual(Object.keys(healthChecks ?? {}), ['/live', '/ready', '/extra']);
    assert.deepEqual(settings, {
      sendFailuresDuringShutdown: false,
      signals: ['SIGINT'],
      signal: 'SIGINT',
      timeout: 1234,
      useExit0: true,
      headers: { 'Cache-Control': 'no-store' },
      statusError: 500,
    });

    const served = await serveHealth(health);
    t.after(() => served.close());
    const port = withTerminus(t, served.server, options);
    await health.whenReady();
    assert.deepEqual((await get(port, '/live')).body, '{"status":"ok","info":{},"details":{}}');
    assert.equal((await get(port, '/ready')).status, 200);
    assert.equal((await get(port, '/healthz')).body, 'app', 'paths readykit was not given stay the app’s');
  },
);

test("@readykit/health's main entry never loads terminus; the /terminus subpath does", BOUND, async (t) => {
  const c = await child(
    t,
    `import { createRequire } from 'node:module';
    const cache = createRequire(import.meta.url).cache;
    const loaded = () => Object.keys(cache).some((file) => file.includes('@godaddy/terminus'));
    await import('@readykit/health');
    const main = loaded();
    await import('@readykit/health/terminus');
    process.send({ type: 'loaded', main, subpath: loaded() });`,
    { ...READYKIT, raw: true },
  );
  assert.deepEqual(await c.next('loaded'), { type: 'loaded', main: false, subpath: true });
});

childTest(
  'on SIGTERM: liveness stays 200, readiness fails, in-flight responses close, hooks run, exit 0',
  `{
    shutdown: { delay: 200, drainTimeout: 1000 },
    hooks: { flush: () => send('hook', { name: 'flush' }) },
  }`,
  `// Still before the server listens, so no state change is missed.
  health.subscribe((change) => send('state', { to: change.to }));
  const options = terminusOptions(health);
  // Composed the way a service adds its own step: readykit's, then hold until the test says go.
  const readykitBefore = options.beforeShutdown;
  options.beforeShutdown = async () => {
    const started = Date.now();
    await readykitBefore();
    send('delayed', { ms: Date.now() - started });
    await when('go');
  };
  createTerminus(server, options);
  when('release').then(release);
  send('listeners', { SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') });`,
  async (c, t) => {
    assert.deepEqual(
      await c.next('listeners'),
      { type: 'listeners', SIGTERM: 1, SIGINT: 1 },
      'terminus only',
    );
    assert.equal((await c.next('state')).to, 'warming');
    assert.equal((await c.next('state')).to, 'ready');
    assert.equal((await get(c.port, '/readyz')).status, 200);
    const agent = new Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const slow = get(c.port, '/slow', agent);
    await c.next('inflight');

    c.send('SIGTERM');
    assert.equal((await c.next('state')).to, 'draining');
    assert.ok(((await c.next('delayed')).ms as number) >= 195, 'served for shutdown.delay');
    assert.equal((await get(c.port, '/healthz')).status, 200, 'liveness stays 200 while draining');
    const ready = await get(c.port, '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(JSON.parse(ready.body).error.shutdown, { status: 'fail', reason: 'draining' });
    c.send('release');
    const reply = await slow;
    assert.deepEqual([reply.body, reply.headers.connection], ['slow done', 'close']);

    c.send('go');
    assert.deepEqual(await c.next('hook'), { type: 'hook', name: 'flush' });
    assert.equal((await c.next('state')).to, 'stopped');
    assert.deepEqual(await c.ended, { code: 0, signal: null });
  },
);

childTest(
  'a hook that never settles is cut at its timeout, later hooks still run, and terminus exits 1',
  `{
    shutdown: { delay: 0, drainTimeout: 100 },
    hooks: {
      stuck: { hook: () => new Promise(() => {}), timeout: 100 },
      close: () => send('hook', { name: 'close' }),
    },
  }`,
  `createTerminus(server, terminusOptions(health, {
    logger: (msg, error) => send('log', { msg, error: error.message }),
  }));`,
  async (c) => {
    c.send('SIGTERM');
    assert.deepEqual(await c.next('hook'), { type: 'hook', name: 'close' });
    assert.deepEqual(await c.next('log'), {
      type: 'log',
      msg: 'error happened during shutdown',
      error: 'readykit cleanup hooks: hook stuck timed out after 100 ms',
    });
    assert.deepEqual(await c.ended, { code: 1, signal: null });
  },
);
