import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { createMetrics, ErrorCodes } from '../src/index.ts';
import { ManagementServer, type ManagementServerOptions } from '../src/management-server.ts';
import { send } from './support.ts';

async function start(options: Omit<ManagementServerOptions, 'port'>, t: { after(fn: () => unknown): void }) {
  const server = new ManagementServer({ port: 0, ...options });
  const { port } = await server.listen();
  t.after(() => server.close());
  return { server, url: `http://127.0.0.1:${port}` };
}

/** Writes raw bytes on a fresh connection and reads until the server closes it or `ms` pass. */
function raw(url: string, bytes: string, ms = 1_000): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.setTimeout(ms, () => socket.destroy());
    socket.end(bytes);
  });
}

test('options are validated, naming the option path', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ port: -1, handlers: [] }, /^port must be an integer from 0 to 65535, got -1$/],
    [{ port: 70_000, handlers: [] }, /^port must be/],
    [{ port: '80', handlers: [] }, /^port must be/],
    [{ handlers: [] }, /^port must be/],
    [{ port: 0 }, /^handlers must be an array of functions/],
    [{ port: 0, handlers: [() => true, 'x'] }, /^handlers\[1\] must be a function/],
    [{ port: 0, handlers: [], host: '' }, /^host must be a host name or IP address/],
    [{ port: 0, handlers: [], closeGrace: -5 }, /^closeGrace must be a non-negative number/],
    [{ port: 0, handlers: [], handler: [] }, /^unknown option "handler" \(did you mean "handlers"\?\)$/],
    [null, /^options must be an object/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new ManagementServer(options as ManagementServerOptions),
      (error: Error & { code?: string }) =>
        error.code === ErrorCodes.INVALID_OPTION && message.test(error.message),
      JSON.stringify(options),
    );
  }
  const server = new ManagementServer({ port: 0, handlers: [] });
  assert.equal(server.options.host, '127.0.0.1');
  assert.equal(server.options.closeGrace, 2_000);
  assert.ok(Object.isFrozen(server.options) && Object.isFrozen(server.options.handlers));
});

test('routes each request to the first handler that takes it, 404 otherwise', async (t) => {
  const metrics = createMetrics({ runtime: false });
  t.after(() => metrics.close());
  const seen: string[] = [];
  const { url } = await start(
    {
      handlers: [
        (req) => {
          seen.push(`a ${req.url}`);
          return false;
        },
        (req, res) => metrics.handle(req, res),
        (req, res) => {
          seen.push(`c ${req.url}`);
          if (req.url !== '/hello') return false;
          res.end('hello');
          return true;
        },
        (req) => {
          seen.push(`d ${req.url}`);
          return false;
        },
      ],
    },
    t,
  );
  const scrape = await send(`${url}/metrics`);
  assert.equal(scrape.status, 200);
  assert.match(scrape.body, /http_requests_total/);
  assert.equal((await send(`${url}/hello`)).body, 'hello');
  const missing = await send(`${url}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'not found\n');
  assert.equal(missing.headers['cache-control'], 'no-store');
  assert.deepEqual(seen, ['a /metrics', 'a /hello', 'c /hello', 'a /nope', 'c /nope', 'd /nope']);
  const head = await send(`${url}/nope`, { method: 'HEAD' });
  assert.equal(head.status, 404);
  assert.equal(head.body, '');
});

test('a handler that throws answers a bare 500 and the server keeps serving', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const { url } = await start(
    {
      handlers: [
        (req) => {
          if (req.url === '/boom') throw new Error('secret detail\n    at somewhere (file.ts:1:1)');
          return false;
        },
        (req) => {
          if (req.url !== '/async') return false;
          return Promise.reject(new Error('async secret')) as unknown as boolean;
        },
      ],
    },
    t,
  );
  for (const path of ['/boom', '/async']) {
    const res = await send(`${url}${path}`);
    assert.equal(res.status, 500, path);
    assert.equal(res.body, 'internal error\n');
    assert.doesNotMatch(JSON.stringify(res.headers) + res.body, /secret|at somewhere/);
  }
  assert.equal((await send(`${url}/other`)).status, 404);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(warnings.some((w) => w.includes('secret detail') && !w.includes('somewhere')));
});

test('malformed requests get a 400 and do not take the server down', async (t) => {
  const { url } = await start({ handlers: [] }, t);
  for (const bytes of [
    'garbage\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    '\u0000\u0001\u0002\r\n\r\n',
  ]) {
    const answer = await raw(url, bytes);
    assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(bytes));
  }
  const longUrl = await send(`${url}/${'x'.repeat(20_000)}`);
  assert.equal(longUrl.status, 431);
  assert.equal((await send(`${url}/still-up`)).status, 404);
});

test('listen() reports the port; close() is idempotent, with a keep-alive client still connected', async () => {
  const server = new ManagementServer({
    port: 0,
    handlers: [
      (_req, res) => {
        res.end('ok');
        return true;
      },
    ],
  });
  const listening = server.listen();
  assert.equal(server.listen(), listening, 'a second listen() is the same promise');
  const { port } = await listening;
  assert.ok(port > 0);
  const agent = new (await import('node:http')).Agent({ keepAlive: true });
  const body = await new Promise<string>((resolve, reject) => {
    request(`http://127.0.0.1:${port}/`, { agent }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(body, 'ok');
  assert.equal(Object.values(agent.freeSockets).flat().length, 1, 'an idle keep-alive connection is open');
  const started = Date.now();
  const closing = server.close();
  assert.equal(server.close(), closing);
  await closing;
  assert.ok(Date.now() - started < 1_000, 'idle connections are closed at once, not after the grace');
  await assert.rejects(server.listen(), { code: ErrorCodes.LIFECYCLE });
  agent.destroy();
});

test('close() drops a request still in flight after closeGrace', async () => {
  const server = new ManagementServer({ port: 0, closeGrace: 100, handlers: [() => true] });
  const { port } = await server.listen();
  const pending = new Promise<string>((resolve) => {
    request(`http://127.0.0.1:${port}/hang`, { agent: false })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
      .end();
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started >= 90, 'waited for the grace');
  assert.equal(await pending, 'ECONNRESET');
});

test('close() before listen() resolves', async () => {
  const server = new ManagementServer({ port: 0, handlers: [] });
  await server.close();
});
