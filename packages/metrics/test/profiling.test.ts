import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { ErrorCodes } from '../src/index.ts';
import { ManagementServer } from '../src/management-server.ts';
import { createProfiling, type ProfilingOptions, parseSeconds } from '../src/profiling.ts';
import { send, until } from './support.ts';

async function start(options: ProfilingOptions | undefined, t: { after(fn: () => unknown): void }) {
  const server = new ManagementServer({ port: 0, closeGrace: 0, handlers: [createProfiling(options)] });
  const { port } = await server.listen();
  t.after(() => server.close());
  return `http://127.0.0.1:${port}`;
}

/** Starts a request and resolves once its response headers arrive; `abort()` hangs up. */
function open(url: string): { abort(): void; answered: Promise<number> } {
  const req = request(url, { agent: false });
  const answered = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
  req.end();
  return { abort: () => req.destroy(), answered };
}

test('options are validated, naming the option path', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ maxSeconds: 0 }, /^maxSeconds must be an integer from 1 to 3600, got 0$/],
    [{ maxSeconds: 1.5 }, /^maxSeconds must be/],
    [{ maxSeconds: 3601 }, /^maxSeconds must be/],
    [{ basePath: 'debug' }, /^basePath must be a URL path/],
    [{ maxSecond: 5 }, /^unknown option "maxSecond" \(did you mean "maxSeconds"\?\)$/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => createProfiling(options as ProfilingOptions),
      (error: Error & { code?: string }) =>
        error.code === ErrorCodes.INVALID_OPTION && message.test(error.message),
      JSON.stringify(options),
    );
  }
});

test('parseSeconds: default, clamped to 1..max, malformed values refused', () => {
  const cases: Array<[string, number | 'bad']> = [
    ['/debug/profile', 10],
    ['/debug/profile?x=1', 10],
    ['/debug/profile?seconds=5', 5],
    ['/debug/profile?seconds=0', 1],
    ['/debug/profile?seconds=999999', 30],
    ['/debug/profile?seconds=007', 7],
    ['/debug/profile?seconds=abc', 'bad'],
    ['/debug/profile?seconds=-1', 'bad'],
    ['/debug/profile?seconds=1.5', 'bad'],
    ['/debug/profile?seconds=', 'bad'],
    ['/debug/profile?seconds=1&seconds=2', 'bad'],
    ['/debug/profile?seconds=1e3', 'bad'],
    [`/debug/profile?seconds=${'9'.repeat(10)}`, 'bad'],
  ];
  for (const [url, expected] of cases) {
    const got = parseSeconds(url, 10, 30);
    if (expected === 'bad') assert.equal(typeof got, 'string', url);
    else assert.equal(got, expected, url);
  }
});

test('GET /debug/profile?seconds=1 answers a CPU profile as a .cpuprofile attachment', async (t) => {
  const url = await start(undefined, t);
  const started = Date.now();
  const res = await send(`${url}/debug/profile?seconds=1`);
  assert.ok(Date.now() - started >= 950, 'profiled for about a second');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(
    res.headers['content-disposition'] ?? '',
    /^attachment; filename="cpu-\d{8}T\d{6}Z-\d+\.cpuprofile"$/,
  );
  const profile = JSON.parse(res.body) as { nodes: unknown[]; samples: unknown[]; startTime: number };
  assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0);
  assert.ok(Array.isArray(profile.samples));
  assert.equal(typeof profile.startTime, 'number');
});

test('GET /debug/heapsnapshot streams a parseable .heapsnapshot attachment', async (t) => {
  const url = await start(undefined, t);
  const res = await send(`${url}/debug/heapsnapshot`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-length'], undefined, 'streamed');
  assert.match(res.headers['content-disposition'] ?? '', /^attachment; filename="heap-.*\.heapsnapshot"$/);
  const snapshot = JSON.parse(res.body) as { snapshot: { node_count: number } };
  assert.ok(snapshot.snapshot.node_count > 0);
});

test('one at a time: 409 with Retry-After while a profile runs, for both routes', async (t) => {
  const url = await start({ maxSeconds: 2 }, t);
  const first = send(`${url}/debug/profile?seconds=2`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const path of ['/debug/profile?seconds=1', '/debug/heapsnapshot']) {
    const busy = await send(`${url}${path}`);
    assert.equal(busy.status, 409, path);
    assert.equal(busy.body, 'a profile is already running\n');
    assert.ok(Number(busy.headers['retry-after']) >= 1 && Number(busy.headers['retry-after']) <= 2);
  }
  assert.equal((await first).status, 200);
  assert.equal((await send(`${url}/debug/profile?seconds=1`)).status, 200, 'free again afterwards');
});

test('a malformed seconds is a 400 with a one-line reason that does not echo it', async (t) => {
  const url = await start(undefined, t);
  for (const value of ['abc', '-1', '<script>', 'x'.repeat(10_240)]) {
    const res = await send(`${url}/debug/profile?seconds=${value}`);
    assert.equal(res.status, 400, value.slice(0, 20));
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(res.body, /^seconds must be a whole number of seconds \(at most 30 are used\)\n$/);
    assert.ok(!res.body.includes(value));
  }
});

test('a client that hangs up mid-profile stops it and releases the lock', async (t) => {
  const url = await start(undefined, t);
  const long = open(`${url}/debug/profile?seconds=30`);
  await until(async () => (await send(`${url}/debug/heapsnapshot`)).status === 409);
  long.abort();
  assert.equal(await long.answered, 0, 'no answer to the aborted request');
  const started = Date.now();
  await until(async () => (await send(`${url}/debug/profile?seconds=0`)).status !== 409, 3_000);
  assert.ok(Date.now() - started < 2_000, 'released promptly, not after 30 s');
  const next = await send(`${url}/debug/profile?seconds=1`);
  assert.equal(next.status, 200);
  assert.ok(Array.isArray((JSON.parse(next.body) as { nodes: unknown[] }).nodes));
});

test('other methods get 405; other paths are left to the next handler', async (t) => {
  const url = await start({ basePath: '/ops/' }, t);
  for (const method of ['POST', 'HEAD', 'DELETE']) {
    const res = await send(`${url}/ops/profile`, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.allow, 'GET');
  }
  for (const path of ['/debug/profile', '/ops/profiles', '/ops', '/ops/heapsnapshot/x']) {
    assert.equal((await send(`${url}${path}`)).status, 404, path);
  }
});
