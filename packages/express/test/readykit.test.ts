import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import express4 from 'express4';
import {
  getRequestContext,
  type KitComponent,
  type Readykit,
  type ReadykitOptions,
  readykit,
} from '../src/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A kit that leaves process signals alone, so the test runner keeps its own. */
function kitFor(options: ReadykitOptions = {}): Readykit {
  const kit = readykit({ ...options, shutdown: { signals: [], exit: false, ...options.shutdown } });
  cleanups.push(() => kit.close());
  return kit;
}

async function listen(app: {
  listen: (...args: never[]) => Server;
}): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s: Server = (app.listen as (port: number, host: string, cb: () => void) => Server)(
      0,
      '127.0.0.1',
      () => resolve(s),
    );
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function get(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

test('readykit() with no options: probes answer and the kit attaches to app.listen() by itself', async () => {
  const kit = kitFor();
  const app = express();
  app.use(kit);
  app.get('/hello', (_req, res) => {
    res.send('hi');
  });
  assert.equal(kit.health.state, 'starting');
  await listen(app);
  // No request has reached the middleware yet: discovery found the server through diagnostics_channel.
  await kit.health.whenReady();
  assert.equal(kit.health.state, 'ready');
});

test('probes are answered before later middleware; the app is untouched', async () => {
  const kit = kitFor();
  const app = express();
  let laterMiddlewareRan = 0;
  app.use(kit);
  app.use((_req, res, next) => {
    laterMiddlewareRan++;
    if (_req.headers.authorization === undefined) res.status(401).send('auth required');
    else next();
  });
  app.get('/api/x', (_req, res) => {
    res.json({ ok: true });
  });
  const { url } = await listen(app);
  await kit.health.whenReady();
  for (const path of ['/healthz', '/livez', '/readyz', '/readyz?verbose', '/healthz?x=1']) {
    const r = await get(`${url}${path}`);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
  assert.equal(laterMiddlewareRan, 0);
  assert.equal((await get(`${url}/api/x`)).status, 401);
  assert.equal((await get(`${url}/api/x`, { headers: { authorization: 'x' } })).body, '{"ok":true}');
  assert.equal(laterMiddlewareRan, 2);
});

test('probes are answered even when app.use(kit) comes after other middleware', async () => {
  const kit = kitFor();
  const app = express();
  app.use((_req, res) => {
    res.status(401).send('auth required');
  });
  app.use(kit);
  const { url } = await listen(app);
  await kit.health.whenReady();
  assert.equal((await get(`${url}/readyz`)).status, 200);
  assert.equal((await get(`${url}/healthz`)).status, 200);
  assert.equal((await get(`${url}/anything`)).status, 401);
});

test('the README integration: a gate holds readiness until kit.gate(name).open()', async () => {
  const kit = kitFor({ gates: ['db'] });
  const app = express();
  app.use(kit);
  const { url } = await listen(app);
  const warming = await get(`${url}/readyz?verbose`);
  assert.equal(warming.status, 503);
  assert.match(warming.body, /^\[-\]db failed: waiting for open\(\)$/m);
  kit.gate('db').open();
  assert.equal((await get(`${url}/readyz`)).status, 200);
});

test('Express 4 works the same way, including discovery through app._router', async () => {
  const kit = kitFor({ gates: { cache: async () => sleep(50) } });
  const app = express4();
  app.use(kit);
  app.get('/x', (_req, res) => {
    res.send('x');
  });
  const { url } = await listen(app as never);
  await kit.health.whenReady();
  assert.equal((await get(`${url}/readyz`)).status, 200);
  assert.equal((await get(`${url}/x`)).body, 'x');
  assert.equal((await get(`${url}/readyz`, { method: 'POST' })).status, 405);
});

test('a kit mounted inside a router is still found by discovery', async () => {
  const kit = kitFor();
  const app = express();
  const outer = express.Router();
  outer.use(kit);
  app.use(outer);
  await listen(app);
  await kit.health.whenReady();
  assert.equal(kit.health.state, 'ready');
});

test('discovery ignores servers of apps that do not use the kit', async () => {
  const kit = kitFor();
  const other = express();
  other.get('/', (_req, res) => {
    res.send('other');
  });
  await listen(other);
  await sleep(20);
  assert.equal(kit.health.state, 'starting');
});

test('servers created another way: kit.attach(server), or the first request as a fallback', async () => {
  const explicit = kitFor();
  const app1 = express();
  app1.use(explicit);
  const wrapped = createServer((req, res) => app1(req, res));
  explicit.attach(wrapped);
  await listen({ listen: wrapped.listen.bind(wrapped) as never });
  await explicit.health.whenReady();

  const lazy = kitFor();
  const app2 = express();
  app2.use(lazy);
  const server2 = createServer((req, res) => app2(req, res));
  const { url } = await listen({ listen: server2.listen.bind(server2) as never });
  assert.equal(lazy.health.state, 'starting', 'a wrapped handler hides the app from discovery');
  assert.equal((await get(`${url}/healthz`)).status, 200);
  await lazy.health.whenReady();
});

test('components run after health, in order, and may answer requests themselves', async () => {
  const seen: string[] = [];
  const attached: Server[] = [];
  let closed = 0;
  const metricsLike: KitComponent = {
    name: 'metrics-like',
    handle: (req, res, next) => {
      seen.push(`metrics ${req.url}`);
      if (req.url === '/metrics') res.end('# nothing yet\n');
      else next();
    },
    attach: (server) => attached.push(server),
    close: () => {
      closed++;
    },
  };
  const tracingLike: KitComponent = {
    name: 'tracing-like',
    handle: (req, _res, next) => {
      seen.push(`tracing ${req.url}`);
      next();
    },
  };
  const kit = readykit({
    metrics: false,
    tracing: false,
    components: [metricsLike, tracingLike],
    shutdown: { signals: [], exit: false },
  });
  const app = express();
  app.use(kit);
  app.get('/x', (_req, res) => {
    res.send('x');
  });
  const { server, url } = await listen(app);
  assert.equal((await get(`${url}/readyz`)).status, 200);
  assert.equal((await get(`${url}/metrics`)).body, '# nothing yet\n');
  assert.equal((await get(`${url}/x`)).body, 'x');
  assert.deepEqual(seen, ['metrics /metrics', 'metrics /x', 'tracing /x']);
  assert.deepEqual(attached, [server]);
  assert.deepEqual(
    kit.components.map((c) => c.name),
    ['health', 'metrics-like', 'tracing-like'],
  );
  await kit.close();
  assert.equal(closed, 1);
});

test('kit.shutdown(): in-flight Express requests finish with Connection: close, hooks run', async () => {
  const kit = kitFor({ shutdown: { delay: 100, drainTimeout: 2000 } });
  let hookRan = false;
  kit.onShutdown('pool', () => {
    hookRan = true;
  });
  const app = express();
  app.use(kit);
  app.get('/slow', async (_req, res) => {
    await sleep(300);
    res.send('slow done');
  });
  const { url } = await listen(app);
  await kit.health.whenReady();
  const slow = get(`${url}/slow`);
  await sleep(30);
  const done = kit.shutdown('test');
  assert.equal((await get(`${url}/readyz`)).status, 503);
  assert.equal((await get(`${url}/healthz`)).status, 200);
  const answer = await slow;
  assert.equal(answer.body, 'slow done');
  assert.equal(answer.headers.get('connection'), 'close');
  const result = await done;
  assert.equal(result.exitCode, 0);
  assert.equal(hookRan, true);
});

test('invalid options are refused at construction with the option named', () => {
  assert.throws(() => readykit({ checkTimeout: -5 }), {
    code: 'RK_ERR_INVALID_OPTION',
    message: /^checkTimeout /,
  });
});

test('metrics are on by default: RED metrics with route templates, lifecycle from health', async () => {
  const kit = kitFor({ gates: ['db'] });
  const app = express();
  app.use(kit);
  const users = express.Router({ mergeParams: true });
  users.get('/:id/orders', (req, res) => {
    res.json({ user: req.params.id });
  });
  app.use('/api/users', users);
  const { url } = await listen(app);
  kit.gate('db').open();
  await kit.health.whenReady();
  for (const id of [1, 2, 3]) assert.equal((await get(`${url}/api/users/${id}/orders`)).status, 200);
  assert.equal((await get(`${url}/nope`)).status, 404);
  await get(`${url}/readyz`);
  const text = (await get(`${url}/metrics`)).body;
  assert.match(
    text,
    /^http_requests_total\{method="GET",route="\/api\/users\/:id\/orders",status_code="200"\} 3$/m,
  );
  assert.match(text, /^http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
  assert.doesNotMatch(text, /route="\/readyz"|route="\/api\/users\/1/);
  assert.match(text, /^readykit_ready 1$/m);
  assert.match(text, /^readykit_gate_open\{gate="db"\} 1$/m);
  assert.match(text, /^nodejs_eventloop_utilization /m);
  assert.ok(kit.metrics !== undefined);
});

test('management: /metrics and profiling move to their own listener, closed at the end of shutdown', async () => {
  const kit = kitFor({ management: { port: 0, profiling: { maxSeconds: 2 } }, shutdown: { delay: 0 } });
  const app = express();
  app.use(kit);
  app.get('/x', (_req, res) => {
    res.send('x');
  });
  const { url } = await listen(app);
  await kit.health.whenReady();
  assert.ok(kit.management !== undefined);
  const { port } = await kit.management.listen();
  const admin = `http://127.0.0.1:${port}`;
  await get(`${url}/x`);
  assert.equal((await get(`${url}/metrics`)).status, 404, 'not on the public listener');
  const scraped = await get(`${admin}/metrics`);
  assert.equal(scraped.status, 200);
  assert.match(scraped.body, /^http_requests_total\{method="GET",route="\/x",status_code="200"\} 1$/m);
  assert.match(scraped.body, /^http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1$/m);
  const profile = await get(`${admin}/debug/profile?seconds=1`);
  assert.equal(profile.status, 200);
  assert.ok(Array.isArray(JSON.parse(profile.body).nodes));
  assert.equal((await get(`${admin}/readyz`)).status, 404, 'probes stay on the app port');
  const result = await kit.shutdown('test');
  assert.equal(result.exitCode, 0);
  await assert.rejects(fetch(`${admin}/metrics`), 'the management listener is closed');
});

test('tracing is on by default: request ids echoed, the context reaches async handlers, exemplars carry sampled trace ids', async () => {
  const kit = kitFor();
  const app = express();
  app.use(kit);
  app.get('/api/items/:id', async (_req, res) => {
    await sleep(1);
    res.json(getRequestContext());
  });
  const { url } = await listen(app);
  await kit.health.whenReady();
  const generated = await get(`${url}/api/items/3`);
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const sampled = await get(`${url}/api/items/1`, {
    headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01`, 'x-request-id': 'r-1' },
  });
  assert.equal(sampled.headers.get('x-request-id'), 'r-1');
  assert.equal(JSON.parse(sampled.body).traceId, trace);
  // Each bucket keeps its latest exemplar: an unsampled request after the sampled one must not replace it.
  const unsampledTrace = '0af7651916cd43dd8448eb211c80319c';
  await get(`${url}/api/items/2`, { headers: { traceparent: `00-${unsampledTrace}-00f067aa0ba902b7-00` } });
  // Probes are answered before tracing: no request id there.
  assert.equal((await get(`${url}/readyz`)).headers.get('x-request-id'), null);
  const scrape = await get(`${url}/metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' },
  });
  assert.match(
    scrape.body,
    new RegExp(
      `http_request_duration_seconds_bucket\\{[^}]*route="/api/items/:id"[^}]*\\} \\d+ # \\{trace_id="${trace}"\\}`,
    ),
  );
  assert.doesNotMatch(scrape.body, new RegExp(unsampledTrace), 'unsampled traces are not exemplars');
});

test('tracing: false leaves requests alone', async () => {
  const kit = kitFor({ tracing: false });
  const app = express();
  app.use(kit);
  app.get('/x', (_req, res) => {
    res.json({ context: getRequestContext() ?? null });
  });
  const { url } = await listen(app);
  const answer = await get(`${url}/x`, { headers: { 'x-request-id': 'r-2' } });
  assert.equal(answer.headers.get('x-request-id'), null);
  assert.deepEqual(JSON.parse(answer.body), { context: null });
  assert.equal(kit.tracing, undefined);
});
