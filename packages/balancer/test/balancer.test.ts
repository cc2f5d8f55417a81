import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { Balancer } from '../src/balancer.ts';
import { seededRng } from './support/seeded-rng.ts';
import { startTestBackend, type TestBackend, until } from './support/test-backend.ts';

const client = new Agent({ keepAliveTimeout: 1000 });
after(() => client.close());

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function startBalancer(backends: TestBackend[], options: Record<string, unknown> = {}) {
  const balancer = new Balancer(
    {
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      backends: backends.map((b) => b.url),
      healthCheck: { interval: 50, timeout: 40, rise: 1, fall: 1 },
      slowStart: { window: 0 },
      ...options,
    },
    { rng: seededRng(7) },
  );
  running.push(balancer);
  const addresses = await balancer.start();
  return { balancer, ...addresses };
}

async function backends(...names: string[]): Promise<TestBackend[]> {
  const started = await Promise.all(names.map((name) => startTestBackend(name)));
  running.push(...started);
  return started;
}

function nodeGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      httpGet(url, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      }).on('error', reject);
    },
  );
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { dispatcher: client, headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('Balancer', () => {
  it('proxies to ready backends only, and stops sending new requests to one whose readiness says 503', async () => {
    const [a, b] = await backends('a', 'b');
    b!.readyStatus = 503; // warming
    const { proxy, balancer } = await startBalancer([a!, b!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'a ready');
    for (let i = 0; i < 20; i++) assert.equal((await get(`${proxy}/x`)).body, 'a');
    b!.readyStatus = 200;
    await until(() => balancer.backends.readyCount(performance.now()) === 2, 2000, 'b ready');
    // P2C-EWMA sends sequential requests to the fastest backend; with requests in flight the
    // cost (latency x (in-flight + 1)) spreads them.
    const seen = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => get(`${proxy}/x`)));
      for (const res of batch) seen.add(res.body);
    }
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    a!.readyStatus = 503; // draining
    await until(() => [...balancer.backends.all()].some((x) => x.state === 'draining'), 2000, 'a draining');
    for (let i = 0; i < 20; i++) assert.equal((await get(`${proxy}/x`)).body, 'b');
  });

  it('forgets the latency of a backend that comes back from draining: it rejoins at the fleet average', async () => {
    const [a, b] = await backends('a', 'b');
    b!.handler = (_req, res) => {
      setTimeout(() => res.end('b'), 120);
    };
    const { proxy, balancer } = await startBalancer([a!, b!], { algorithm: 'round-robin' });
    await until(() => balancer.backends.readyCount(performance.now()) === 2, 2000, 'both ready');
    await Promise.all(Array.from({ length: 6 }, () => get(`${proxy}/x`)));
    const [slow] = [...balancer.backends.all()].filter((x) => x.id === b!.url);
    const [fast] = [...balancer.backends.all()].filter((x) => x.id === a!.url);
    assert.ok(slow!.latencyMs(performance.now()) >= 100, 'the slow process left a high estimate');
    b!.readyStatus = 503; // the slow process drains and a new one takes its address
    await until(() => slow!.state === 'draining', 2000, 'b draining');
    b!.handler = (_req, res) => res.end('b');
    b!.readyStatus = 200;
    await until(() => slow!.state === 'ready', 2000, 'b ready again');
    const now = performance.now();
    assert.ok(
      Math.abs(slow!.latencyMs(now) - fast!.latencyMs(now)) < 1,
      `rejoined at ${slow!.latencyMs(now)} ms, fleet at ${fast!.latencyMs(now)} ms`,
    );
  });

  it('answers 503 with Retry-After when no backend is ready, and its own /readyz says so', async () => {
    const [a] = await backends('a');
    a!.readyStatus = 503;
    const { proxy, admin } = await startBalancer([a!]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const res = await get(`${proxy}/x`);
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.headers['x-readykit-error'], 'RK_ERR_NO_BACKEND');
    assert.equal(res.body, 'no backend available\n');
    assert.equal(a!.seen.length, 0);
    assert.equal((await get(`${admin}/readyz`)).status, 503);
    a!.readyStatus = 200;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal((await get(`${admin}/readyz`)).status, 200);
  });

  it('retries an idempotent request on another backend when one refuses connections', async () => {
    const [a, b] = await backends('a', 'b');
    const { proxy, balancer } = await startBalancer([a!, b!], {
      healthCheck: { interval: 5000, timeout: 1000 },
    });
    await until(() => balancer.backends.readyCount(performance.now()) === 2, 2000, 'both ready');
    await a!.close(); // gone, but still "ready" until its next check in 5 s
    for (let i = 0; i < 30; i++) {
      const res = await get(`${proxy}/x`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'b');
    }
    const stats = [...balancer.backends.all()].find((x) => x.id === a!.url)!.stats;
    assert.ok(stats.retries > 0, 'some requests were retried');
  });

  it('answers 504 when the incoming deadline passes before the backend answers', async () => {
    const [a] = await backends('a');
    a!.handler = (_req, res) => {
      setTimeout(() => res.end('late'), 400);
    };
    const { proxy, balancer } = await startBalancer([a!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'ready');
    const started = performance.now();
    const res = await get(`${proxy}/slow`, { 'x-readykit-timeout-ms': '100' });
    const took = performance.now() - started;
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-readykit-error'], 'RK_ERR_DEADLINE_EXCEEDED');
    assert.ok(took < 350, `answered after ${took} ms`);
  });

  it('forwards trace, request id and a smaller deadline; strips hop-by-hop headers both ways', async () => {
    const [a] = await backends('a');
    a!.handler = (req, res) => {
      res.setHeader('connection', 'x-private');
      res.setHeader('x-private', 'backend secret');
      res.setHeader('keep-alive', 'timeout=99');
      res.end(JSON.stringify(req.headers));
    };
    const { proxy, balancer } = await startBalancer([a!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'ready');
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    // node:http sends a Connection header as given (undici replaces it).
    const res = await nodeGet(`${proxy}/h`, {
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      'x-request-id': 'req-123',
      'x-readykit-timeout-ms': '2000',
      connection: 'x-hop',
      'x-hop': 'client secret',
      'x-forwarded-for': '6.6.6.6',
    });
    const seen = JSON.parse(res.body) as Record<string, string>;
    assert.match(seen.traceparent!, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.notEqual(seen.traceparent!.slice(36, 52), 'b7ad6b7169203331', 'a new span id');
    assert.equal(seen['x-request-id'], 'req-123');
    const budget = Number(seen['x-readykit-timeout-ms']);
    assert.ok(budget < 2000 && budget > 1500, `budget ${budget}`);
    assert.equal(seen['x-hop'], undefined);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'an untrusted peer cannot forge X-Forwarded-For');
    assert.equal(res.headers['x-private'], undefined);
    assert.notEqual(res.headers['keep-alive'], 'timeout=99');
  });

  it('streams a request body to the backend and the response back', async () => {
    const [a] = await backends('a');
    a!.handler = (req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      req.on('end', () => res.end(String(bytes)));
    };
    const { proxy, balancer } = await startBalancer([a!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'ready');
    const size = 8 * 1024 * 1024;
    const res = await request(`${proxy}/upload`, {
      dispatcher: client,
      method: 'POST',
      body: Buffer.alloc(size, 1),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), String(size));
  });

  it('refuses CONNECT without reaching a backend', async () => {
    const [a] = await backends('a');
    const { proxy, balancer } = await startBalancer([a!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'ready');
    const { port } = new URL(proxy);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        resolve(data);
      }, 1000);
    });
    assert.match(answer, /^HTTP\/1\.1 (405|501|400)/);
    assert.equal(a!.seen.length, 0);
  });

  it('reports every backend on /api/backends and per-backend series on /metrics', async () => {
    const [a] = await backends('a');
    const { proxy, admin, balancer } = await startBalancer([a!]);
    await until(() => balancer.backends.readyCount(performance.now()) === 1, 2000, 'ready');
    await get(`${proxy}/x`);
    const report = JSON.parse((await get(`${admin}/api/backends`)).body);
    assert.equal(report.algorithm, 'p2c-ewma');
    assert.equal(report.backends[0].url, a!.url);
    assert.equal(report.backends[0].state, 'ready');
    assert.equal(report.backends[0].requests, 1);
    const metrics = (await get(`${admin}/metrics`)).body;
    assert.match(
      metrics,
      new RegExp(`readykit_balancer_requests_total\\{backend="${a!.url}",code_class="2xx"\\} 1`),
    );
    assert.match(metrics, /readykit_balancer_backend_state\{backend="[^"]+",state="ready"\} 1/);
    assert.match(metrics, /nodejs_eventloop_utilization/);
  });
});
