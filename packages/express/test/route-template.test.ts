import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import { captureRouteRoot, routeTemplate, routeTemplateWalks } from '../src/route-template.ts';

// Just enough of Express 4 and 5 to build the same route tables with either.
type Req = IncomingMessage & { params: Record<string, string> };
type Res = ServerResponse & { send(body: string): void; status(code: number): Res };
type Next = (error?: unknown) => void;
interface RouteLike {
  get(...handlers: unknown[]): RouteLike;
  put(...handlers: unknown[]): RouteLike;
  delete(...handlers: unknown[]): RouteLike;
}
interface RouterLike {
  use(...args: unknown[]): RouterLike;
  get(...args: unknown[]): RouterLike;
  all(...args: unknown[]): RouterLike;
  route(path: unknown): RouteLike;
}
interface AppLike extends RouterLike {
  listen(port: number, host: string, cb: () => void): Server;
}
interface ExpressLike {
  (): AppLike;
  Router(options?: { mergeParams?: boolean }): RouterLike;
}
const e5 = express as unknown as ExpressLike;
const e4 = express4 as unknown as ExpressLike;

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const ok = (_req: Req, res: Res) => res.send('ok');
const boom = () => {
  throw new Error('boom');
};
const onError = (_err: unknown, _req: Req, res: Res, _next: Next) => res.status(500).send('error');

type Hit = (method: string, path: string) => Promise<{ status: number; label: string | undefined }>;

const probes = new WeakMap<AppLike, Map<string, (label: string | undefined) => void>>();

/**
 * A new app whose first middleware does what a metrics middleware does: capture at the start of the
 * request, resolve the template in the response's 'finish' listener (reported to `serve`'s client).
 */
function newApp(ex: ExpressLike, capture = true): AppLike {
  const app = ex();
  const waiters = new Map<string, (label: string | undefined) => void>();
  probes.set(app, waiters);
  app.use((req: Req, res: Res, next: Next) => {
    if (capture) captureRouteRoot(req);
    const id = String(req.headers['x-probe']);
    res.on('finish', () => waiters.get(id)?.(routeTemplate(req)));
    next();
  });
  return app;
}

/** Listens on 127.0.0.1:0; the client returns the status and the label the probe recorded. */
async function serve(app: AppLike): Promise<Hit> {
  const waiters = probes.get(app)!;
  let seq = 0;
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (method, path) => {
    const id = String(seq++);
    const label = new Promise<string | undefined>((resolve) => waiters.set(id, resolve));
    const res = await fetch(base + path, { method, headers: { 'x-probe': id } });
    await res.arrayBuffer();
    const result = { status: res.status, label: await label };
    waiters.delete(id);
    return result;
  };
}

/** Every case of the brief, built the same way on Express 4 and 5; returns the app and its router `users`. */
function build(ex: ExpressLike, capture = true): { app: AppLike; users: RouterLike } {
  const app = newApp(ex, capture);
  const api = ex.Router();
  const users = ex.Router();
  users.get('/:id/orders', ok);
  users.get('/:id/boom', boom);
  users.get('/:id/pass', (_req: Req, _res: Res, next: Next) => next());
  users.route('/:id').get(ok).delete(ok);
  users.get('/', ok);
  api.use('/users', users);
  app.use('/api', api);
  app.get('/', ok);
  app.use(ex.Router().get('/health/:probe', ok));
  app.use('/', ex.Router().get('/status', ok));
  app.use('/trail/', ex.Router().get('/x/', ok).get('/', ok));
  app.route('/books/:isbn').get(ok).put(ok);
  const members = ex.Router({ mergeParams: true });
  members.get('/members/:mid', (req: Req, res: Res) => res.send(req.params.team ?? 'missing'));
  app.use('/teams/:team', members);
  app.use('/orgs/:org', ex.Router().get('/repos/:repo', ok));
  const admin = ex();
  admin.get('/stats/:day', ok);
  admin.get('/boom', boom);
  admin.use('/users', ex.Router().get('/:id', ok));
  const deep = ex();
  deep.get('/x/:y', ok);
  admin.use('/deep', deep);
  app.use('/admin', admin);
  const legacy = ex();
  legacy.get('/item/:id', ok);
  api.use('/legacy', legacy); // a sub-app handed to a router: no `mount`, no `parent`
  app.get(['/a/:id', '/b/:id'], ok);
  app.use(['/v1', '/v2'], ex.Router().get('/ping', ok));
  app.get(/^\/re\/(\d+)$/, ok);
  app.use(/^\/rx/, ex.Router().get('/y', ok));
  const shared = ex.Router();
  shared.get('/s/:id', ok);
  shared.get('/s/:id/boom', boom);
  app.use('/one', shared);
  app.use('/two', shared);
  app.all('/any/:x', ok);
  return { app, users };
}

type Row = [method: string, path: string, status: number, label: string | undefined];
const common: Row[] = [
  ['GET', '/api/users/42/orders', 200, '/api/users/:id/orders'],
  ['GET', '/api/users/42/orders?page=2', 200, '/api/users/:id/orders'],
  ['GET', '/api/users/42/boom', 500, '/api/users/:id/boom'],
  ['GET', '/api/users/7/pass', 404, '/api/users/:id/pass'], // a route matched, then passed on
  ['GET', '/api/users/7', 200, '/api/users/:id'],
  ['DELETE', '/api/users/7', 200, '/api/users/:id'],
  ['GET', '/api/users', 200, '/api/users'],
  ['GET', '/api/users/', 200, '/api/users'],
  ['GET', '/', 200, '/'],
  ['GET', '/health/live', 200, '/health/:probe'],
  ['GET', '/status', 200, '/status'],
  ['GET', '/trail/x', 200, '/trail/x/'],
  ['GET', '/trail/x/', 200, '/trail/x/'],
  ['GET', '/trail', 200, '/trail'],
  ['GET', '/books/978', 200, '/books/:isbn'],
  ['PUT', '/books/978', 200, '/books/:isbn'],
  ['HEAD', '/books/978', 200, '/books/:isbn'],
  ['OPTIONS', '/books/978', 200, undefined], // Express's automatic answer: no route ran
  ['GET', '/teams/red/members/9', 200, '/teams/:team/members/:mid'],
  ['GET', '/orgs/acme/repos/kit', 200, '/orgs/:org/repos/:repo'],
  ['GET', '/admin/stats/mon', 200, '/admin/stats/:day'],
  ['GET', '/admin/boom', 500, '/admin/boom'], // the sub-app was seen by the row above
  ['GET', '/admin/users/3', 200, '/admin/users/:id'],
  ['GET', '/admin/deep/x/1', 200, '/admin/deep/x/:y'],
  ['GET', '/api/legacy/item/5', 200, '/api/legacy/item/:id'],
  ['GET', '/a/1', 200, '(/a/:id|/b/:id)'],
  ['GET', '/b/2', 200, '(/a/:id|/b/:id)'],
  ['GET', '/v1/ping', 200, '(/v1|/v2)/ping'],
  ['GET', '/v2/ping', 200, '(/v1|/v2)/ping'],
  ['GET', '/re/123', 200, String(/^\/re\/(\d+)$/)],
  ['GET', '/rx/y', 200, `${String(/^\/rx/)}/y`],
  ['GET', '/one/s/1', 200, '/one/s/:id'],
  ['GET', '/two/s/1', 200, '/two/s/:id'],
  ['GET', '/two/s/1/boom', 500, '/two/s/:id/boom'], // req.baseUrl is reset by then; the URL decides
  ['GET', '/one/s/1/boom', 500, '/one/s/:id/boom'],
  ['GET', '/any/z', 200, '/any/:x'],
  ['POST', '/any/z', 200, '/any/:x'],
  ['GET', '/nope', 404, undefined],
  ['GET', '/api/nope/deeper', 404, undefined],
];

async function check(hit: Hit, rows: Row[]): Promise<void> {
  for (const [method, path, status, label] of rows) {
    const got = await hit(method, path);
    assert.deepEqual(got, { status, label }, `${method} ${path}`);
  }
}

async function lateRoutes(ex: ExpressLike, hit: Hit, built: ReturnType<typeof build>): Promise<void> {
  built.users.get('/:id/late', ok);
  built.app.use('/later', ex.Router().get('/q/:n', ok));
  await check(hit, [
    ['GET', '/api/users/1/late', 200, '/api/users/:id/late'],
    ['GET', '/later/q/2', 200, '/later/q/:n'],
  ]);
}

test('Express 5: route templates through routers, sub-apps, arrays, RegExps, errors and 404s', async () => {
  const built = build(e5);
  built.app.get('/files/*rest', ok);
  built.app.get('/opt{/:x}', ok);
  built.app.get('/async-boom', async () => {
    throw new Error('rejected');
  });
  built.app.use(onError);
  const hit = await serve(built.app);
  await check(hit, [
    ...common,
    ['GET', '/files/a/b.txt', 200, '/files/*rest'],
    ['GET', '/opt', 200, '/opt{/:x}'],
    ['GET', '/opt/7', 200, '/opt{/:x}'],
    ['GET', '/async-boom', 500, '/async-boom'],
  ]);
  await lateRoutes(e5, hit, built);
});

test('Express 4: the same table, plus the mount paths rebuilt from compiled RegExps', async () => {
  const built = build(e4);
  built.app.get('/files/*', ok);
  built.app.use('/opt/:x?', e4.Router().get('/leaf', ok));
  built.app.use('/v1.0', e4.Router().get('/info', ok));
  const custom = e4();
  custom.use('/n/:id(\\d+)', e4.Router().get('/z', ok)); // not rebuilt: labelled by its RegExp
  built.app.use('/custom', custom);
  built.app.use(onError);
  const hit = await serve(built.app);
  await check(hit, [
    ...common,
    ['GET', '/files/a/b.txt', 200, '/files/*'],
    ['GET', '/opt/abc/leaf', 200, '/opt/:x?/leaf'],
    ['GET', '/v1.0/info', 200, '/v1.0/info'],
    ['GET', '/custom/n/12/z', 200, `/custom${String(/^\/n(?:\/(\d+))\/?(?=\/|$)/i)}/z`],
  ]);
  await lateRoutes(e4, hit, built);
});

for (const [name, ex] of [
  ['Express 5', e5],
  ['Express 4', e4],
] as const) {
  test(`${name}: an error from an app.use() sub-app not yet seen is '*'-prefixed, then exact`, async () => {
    const app = newApp(ex);
    const sub = ex();
    sub.get('/boom', boom);
    sub.get('/fine', ok);
    app.use('/admin', sub);
    app.use(onError);
    const hit = await serve(app);
    await check(hit, [
      ['GET', '/admin/boom', 500, '*/boom'], // Express keeps no reference from the parent to `sub`
      ['GET', '/admin/fine', 200, '/admin/fine'],
      ['GET', '/admin/boom', 500, '/admin/boom'],
    ]);
  });

  test(`${name}: 1 000 requests with distinct ids give exactly one label`, async () => {
    const { app } = build(ex);
    const hit = await serve(app);
    const labels = new Set<string | undefined>();
    for (let batch = 0; batch < 1000; batch += 50) {
      const got = await Promise.all(
        Array.from({ length: 50 }, (_, i) => hit('GET', `/api/users/${batch + i}/orders`)),
      );
      for (const g of got) labels.add(g.label);
    }
    assert.deepEqual([...labels], ['/api/users/:id/orders']);
  });

  test(`${name}: one tree walk indexes every route; later lookups only read the cache`, async () => {
    const { app } = build(ex);
    const hit = await serve(app);
    const before = routeTemplateWalks();
    await check(hit, [['GET', '/api/users/1/orders', 200, '/api/users/:id/orders']]);
    assert.equal(routeTemplateWalks(), before + 1);
    await check(hit, [
      ['GET', '/api/users/2/orders', 200, '/api/users/:id/orders'],
      ['GET', '/books/1', 200, '/books/:isbn'],
      ['GET', '/two/s/1', 200, '/two/s/:id'],
      ['GET', '/nope', 404, undefined],
    ]);
    assert.equal(routeTemplateWalks(), before + 1);
  });

  test(`${name}: without captureRouteRoot, only a sub-app handed to a router loses its mount path`, async () => {
    const { app } = build(ex, false);
    const hit = await serve(app);
    await check(hit, [
      ['GET', '/api/users/42/orders', 200, '/api/users/:id/orders'],
      ['GET', '/admin/deep/x/1', 200, '/admin/deep/x/:y'], // app.use() sets `parent`, the way back up
      ['GET', '/api/legacy/item/5', 200, '/item/:id'], // router.use(app) leaves no trace in the app
    ]);
  });
}

test('routeTemplate on a request Express never saw', () => {
  assert.equal(routeTemplate({} as IncomingMessage), undefined);
});
