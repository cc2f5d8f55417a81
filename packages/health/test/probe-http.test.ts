import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Health } from '../src/index.ts';
import { type Served, serve, serveHealth, testHealth, text } from './support.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(health: Health): Promise<Served> {
  const served = await serveHealth(health);
  cleanups.push(
    () => served.close(),
    () => health.close(),
  );
  return served;
}

test('readiness is 503 naming the closed gate while warming, 200 once it opens', async () => {
  const health = testHealth({ gates: ['db', 'cache'] });
  const { url } = await setup(health);
  let r = await text(`${url}/readyz?verbose`);
  assert.equal(r.status, 503);
  assert.equal(
    r.body,
    '[+]shutdown ok\n[-]db failed: waiting for open()\n[-]cache failed: waiting for open()\nreadiness check failed\n',
  );
  assert.equal(health.state, 'warming');
  health.gate('db').open();
  r = await text(`${url}/readyz`);
  assert.equal(r.status, 503);
  assert.match(r.body, /\[\+\]db ok\n\[-\]cache failed/);
  health.gate('cache').open();
  assert.equal(health.state, 'ready');
  r = await text(`${url}/readyz`);
  assert.deepEqual([r.status, r.body], [200, 'ok\n']);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
});

test('an unknown gate name is a clear error', () => {
  const health = testHealth({ gates: ['db'] });
  cleanups.push(() => health.close());
  assert.throws(() => health.gate('dbb'), {
    code: 'RK_ERR_UNKNOWN_GATE',
    message: 'no gate named "dbb" (declared: "db")',
  });
});

test('a check past its timeout fails the probe quickly with a short reason', async () => {
  const health = testHealth({
    readiness: { slow: { check: () => new Promise(() => {}), timeout: 100 } },
  });
  const { url } = await setup(health);
  const t = performance.now();
  const r = await text(`${url}/readyz`);
  assert.ok(performance.now() - t < 1000);
  assert.equal(r.status, 503);
  assert.match(r.body, /^\[-\]slow failed: timed out after 100 ms$/m);
});

test('a check that throws fails with its message and never a stack trace', async () => {
  const health = testHealth({
    readiness: {
      db: () => {
        throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
      },
    },
  });
  const { url } = await setup(health);
  const r = await text(`${url}/readyz`);
  assert.equal(r.status, 503);
  assert.match(r.body, /^\[-\]db failed: connect ECONNREFUSED 10\.0\.0\.5:5432$/m);
  assert.doesNotMatch(r.body, /\bat |\.ts:\d/);
  const withheld = testHealth({ exposeReasons: false, readiness: { db: () => false } });
  const served = await setup(withheld);
  assert.match((await text(`${served.url}/readyz`)).body, /^\[-\]db failed: reason withheld$/m);
});

test('single flight: 100 concurrent probes run a slow check once', async () => {
  let runs = 0;
  const health = testHealth({
    readiness: {
      slow: {
        check: async () => {
          runs++;
          await sleep(300);
        },
        timeout: 2000,
      },
    },
  });
  const { url } = await setup(health);
  const answers = await Promise.all(Array.from({ length: 100 }, () => text(`${url}/readyz`)));
  assert.equal(runs, 1);
  assert.ok(answers.every((a) => a.status === 200 && a.body === 'ok\n'));
});

test('application/health+json answers the IETF format with durations', async () => {
  const health = testHealth({ gates: ['db'], readiness: { cache: async () => {} } });
  const { url } = await setup(health);
  const r = await text(`${url}/readyz`, { headers: { accept: 'application/health+json' } });
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('content-type'), 'application/health+json');
  const body = JSON.parse(r.body);
  assert.equal(body.status, 'fail');
  assert.deepEqual(Object.keys(body.checks), ['shutdown', 'db', 'cache']);
  assert.equal(body.checks.db[0].status, 'fail');
  assert.equal(body.checks.db[0].componentType, 'gate');
  assert.equal(body.checks.cache[0].status, 'pass');
  assert.equal(body.checks.cache[0].observedUnit, 'ms');
  assert.equal(typeof body.checks.cache[0].observedValue, 'number');
  assert.ok(!Number.isNaN(Date.parse(body.checks.cache[0].time)));
  health.gate('db').open();
  const ok = JSON.parse(
    (await text(`${url}/readyz`, { headers: { accept: 'application/health+json' } })).body,
  );
  assert.equal(ok.status, 'pass');
});

test('?exclude skips a check and warns about unknown names without echoing unsafe input', async () => {
  let ran = false;
  const health = testHealth({
    readiness: {
      flaky: () => {
        ran = true;
        return false;
      },
    },
  });
  const { url } = await setup(health);
  const r = await text(`${url}/readyz?exclude=flaky`);
  assert.deepEqual([r.status, r.body], [200, 'ok\n']);
  assert.equal(ran, false, 'an excluded check does not run');
  const w = await text(`${url}/readyz?exclude=flaky&exclude=nope&exclude=%3Cscript%3E`);
  assert.equal(w.status, 200);
  assert.match(w.body, /no matches for "nope", "\(invalid name\)"/);
  assert.doesNotMatch(w.body, /<script>/);
});

test('HEAD answers headers only; other methods get 405; queries never break the match', async () => {
  const health = testHealth();
  const { url } = await setup(health);
  health.start();
  const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '3');
  assert.equal(await head.text(), '');
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await text(`${url}/readyz`, { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  }
  for (const path of ['/healthz?foo=bar', '/livez?', '/healthz/?verbose=0', '/readyz?a=%ZZ&b']) {
    assert.equal((await text(`${url}${path}`)).status, 200, path);
  }
  assert.equal((await text(`${url}/readyzz`)).body, 'app', 'other paths reach the app');
});

test('/readyz/<name> runs one check or gate; unknown names are 404', async () => {
  const health = testHealth({ gates: ['db'], readiness: { cache: () => true } });
  const { url } = await setup(health);
  assert.deepEqual(await text(`${url}/readyz/cache`).then((r) => [r.status, r.body]), [200, 'ok\n']);
  assert.deepEqual(await text(`${url}/readyz/db?verbose`).then((r) => [r.status, r.body]), [
    503,
    '[-]db failed: waiting for open()\nreadiness check failed\n',
  ]);
  assert.equal((await text(`${url}/readyz/nothing`)).status, 404);
  assert.equal((await text(`${url}/readyz/%3Cx%3E`)).status, 404);
  assert.equal((await text(`${url}/healthz/eventloop`)).status, 200);
});

test('minWarmTime keeps readiness 503 after every gate opened', async () => {
  const health = testHealth({ minWarmTime: 300 });
  const { url } = await setup(health);
  const r = await text(`${url}/readyz`);
  assert.equal(r.status, 503);
  assert.match(r.body, /^\[-\]warmup failed: \d+ ms of minWarmTime left$/m);
  await health.whenReady();
  assert.equal((await text(`${url}/readyz`)).status, 200);
});

test('liveness stays 200 while draining; only readiness turns 503', async () => {
  const health = testHealth({ shutdown: { delay: 400, drainTimeout: 100 } });
  const { url } = await setup(health);
  await health.whenReady();
  const done = health.shutdown('test');
  const ready = await text(`${url}/readyz?verbose`);
  assert.equal(ready.status, 503);
  assert.match(ready.body, /^\[-\]shutdown failed: draining$/m);
  const live = await text(`${url}/healthz?verbose`);
  assert.equal(live.status, 200);
  assert.match(live.body, /^\[\+\]eventloop ok$/m);
  assert.equal((await done).exitCode, 0);
});

test('a blocked event loop fails liveness with the stall length', async () => {
  const health = testHealth({ eventLoop: { threshold: 300, window: 2000 } });
  const served = await serveHealth(health);
  served.server.prependListener('request', (req) => {
    if (req.url === '/block') {
      const end = performance.now() + 600;
      while (performance.now() < end) {}
    }
  });
  cleanups.push(
    () => served.close(),
    () => health.close(),
  );
  assert.equal((await text(`${served.url}/healthz`)).status, 200);
  await text(`${served.url}/block`);
  const r = await text(`${served.url}/healthz`);
  assert.equal(r.status, 503);
  assert.match(r.body, /^\[-\]eventloop failed: event loop blocked for (5|6|7)\d\d ms$/m);
});

test('a non-critical readiness check warns without failing the probe', async () => {
  const health = testHealth({ readiness: { cache: { check: () => false, critical: false } } });
  const { url } = await setup(health);
  const r = await text(`${url}/readyz`);
  assert.equal(r.status, 200);
  assert.match(r.body, /^\[!\]cache warn: returned false\nreadiness check passed with warnings\n$/m);
  const json = JSON.parse(
    (await text(`${url}/readyz`, { headers: { accept: 'application/health+json' } })).body,
  );
  assert.equal(json.status, 'warn');
});

test('attach(server, { probes: true }) answers probes in front of the handler', async () => {
  const health = testHealth();
  let handlerSaw = 0;
  const served = await serve((_req, res) => {
    handlerSaw++;
    res.end('app');
  });
  health.attach(served.server, { probes: true });
  cleanups.push(
    () => served.close(),
    () => health.close(),
  );
  assert.deepEqual(await text(`${served.url}/readyz`).then((r) => [r.status, r.body]), [200, 'ok\n']);
  assert.equal((await text(`${served.url}/healthz?verbose`)).status, 200);
  assert.equal((await text(`${served.url}/readyz`, { method: 'POST' })).status, 405);
  assert.equal(handlerSaw, 0, 'probe requests never reached the handler');
  assert.equal((await text(`${served.url}/other`)).body, 'app');
  assert.equal(handlerSaw, 1);
});
