import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import type { DashboardHistory, DashboardSnapshot } from '../src/admin/dashboard-snapshot.ts';
import { BalancerFixture } from './support/balancer-fixture.ts';
import { type EventStreamClient, openEventStream } from './support/sse-client.ts';

const fx = new BalancerFixture();
const streams: EventStreamClient[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await fx.close();
});

async function stream(url: string, headers?: Record<string, string>): Promise<EventStreamClient> {
  const client = await openEventStream(url, headers);
  streams.push(client);
  return client;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

describe('dashboard page', () => {
  it('is one self-contained document under a strict Content-Security-Policy', async () => {
    const started = await fx.start(await fx.backends('a'));
    for (const path of ['/', '/dashboard', '/?x=1']) {
      const res = await fx.request(`${started.admin}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /^default-src 'none'; /);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      const script = /<script>([\s\S]*)<\/script>/.exec(res.body)![1]!;
      const style = /<style>([\s\S]*)<\/style>/.exec(res.body)![1]!;
      assert.ok(
        csp.includes(`script-src 'sha256-${sha256(script)}'`),
        'the inline script is allowed by its hash',
      );
      assert.ok(
        csp.includes(`style-src 'sha256-${sha256(style)}'`),
        'the inline style is allowed by its hash',
      );
      // Nothing loaded from elsewhere, and no data in the page itself.
      assert.doesNotMatch(res.body, /\ssrc=|@import|url\(/);
      assert.deepEqual(
        [...res.body.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]),
        ['data:,'],
      );
      assert.doesNotMatch(res.body, /127\.0\.0\.1/);
    }
    const head = await fx.request(`${started.admin}/`, { method: 'HEAD' });
    assert.deepEqual([head.status, head.body], [200, '']);
    assert.equal((await fx.request(`${started.admin}/`, { method: 'POST' })).status, 405);
  });

  it('is served without the admin token, while its feed needs it', async () => {
    const started = await fx.start(await fx.backends('a'), { adminToken: 'dashboard-test-token' });
    assert.equal((await fx.request(`${started.admin}/`)).status, 200);
    const refused = await stream(`${started.admin}/api/events`);
    assert.equal(refused.status, 401);
    const wrong = await stream(`${started.admin}/api/events`, { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    const allowed = await stream(`${started.admin}/api/events`, {
      authorization: 'Bearer dashboard-test-token',
    });
    assert.equal(allowed.status, 200);
    await allowed.next((e) => e.event === 'snapshot');
  });
});

describe('GET /api/events', () => {
  it('streams the history, then a snapshot of every backend each second', async () => {
    const backends = await fx.backends('a', 'b', 'c');
    const started = await fx.start(backends, { algorithm: 'round-robin' });
    const events = await stream(`${started.admin}/api/events`);
    assert.equal(events.status, 200);
    assert.equal(events.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(events.headers['cache-control'], 'no-store');
    const first = await events.next((e) => e.event === 'snapshot');
    assert.equal(events.lines[0], 'retry: 2000');
    assert.equal(events.events[0]!.event, 'history');
    const history = JSON.parse(events.events[0]!.data) as DashboardHistory;
    assert.equal(history.intervalMs, 1000);
    assert.deepEqual(
      history.backends.map((b) => b.url),
      backends.map((b) => b.url),
    );

    const snapshot = JSON.parse(first.data) as DashboardSnapshot;
    assert.equal(snapshot.algorithm, 'round-robin');
    assert.equal(snapshot.discovery, 'static (3 backends)');
    assert.equal(snapshot.panic, false);
    assert.deepEqual(
      snapshot.backends.map((b) => [b.name, b.url, b.state, b.drain]),
      backends.map((b) => [new URL(b.url).host, b.url, 'ready', null]),
    );

    for (let i = 0; i < 60; i++) assert.equal((await fx.request(`${started.proxy}/x`)).status, 200);
    const seen = events.events.length;
    const later = JSON.parse(
      (await events.next((e) => e.event === 'snapshot', 3000, seen)).data,
    ) as DashboardSnapshot;
    assert.ok(later.second > snapshot.second, 'the clock moved on');
    assert.ok(later.time >= snapshot.time);
    assert.equal(later.total.successRate, 1);
    assert.ok(later.total.rps > 0 && later.total.p99Ms !== null && later.total.p50Ms! <= later.total.p99Ms);
    for (const b of later.backends) {
      assert.ok(b.rps > 0, `${b.name} has traffic`);
      assert.equal(b.successRate, 1);
      assert.ok(b.requests >= 20, `${b.name}: ${b.requests} requests`);
      assert.ok(b.ewmaMs > 0);
      assert.equal(b.recent.at(-1)!.length, 2);
    }
    // Within two more seconds the second with the traffic is whole and in the history points.
    const withPoints = await events.next(
      (e) =>
        e.event === 'snapshot' && (JSON.parse(e.data) as DashboardSnapshot).total.recent.some(([n]) => n > 0),
      3000,
      seen,
    );
    assert.ok(withPoints);
  });

  it('shows an operator drain within a second', async () => {
    const backends = await fx.backends('a', 'b', 'c');
    const started = await fx.start(backends);
    const events = await stream(`${started.admin}/api/events`);
    await events.next((e) => e.event === 'snapshot');
    const name = new URL(backends[1]!.url).host;
    const drained = await fx.request(`${started.admin}/api/backends/${encodeURIComponent(name)}/drain`, {
      method: 'POST',
    });
    assert.equal(drained.status, 200);
    const seen = events.events.length;
    const snapshot = JSON.parse(
      (await events.next((e) => e.event === 'snapshot', 3000, seen)).data,
    ) as DashboardSnapshot;
    const b = snapshot.backends.find((x) => x.name === name)!;
    assert.deepEqual([b.state, b.drain], ['draining', 'operator']);
  });

  it('takes 16 streams at once and refuses the 17th with 503', async () => {
    const started = await fx.start(await fx.backends('a'));
    const open = await Promise.all(Array.from({ length: 16 }, () => stream(`${started.admin}/api/events`)));
    assert.ok(open.every((s) => s.status === 200));
    const refused = await stream(`${started.admin}/api/events`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '5');
    assert.equal(await refused.text(), 'too many dashboard streams open\n');
    open[0]!.close();
    await open[0]!.ended;
    let again = await stream(`${started.admin}/api/events`);
    // The server may see the close a moment after the client.
    for (let i = 0; i < 20 && again.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await stream(`${started.admin}/api/events`);
    }
    assert.equal(again.status, 200);
  });

  it('refuses methods other than GET', async () => {
    const started = await fx.start(await fx.backends('a'));
    const res = await fx.request(`${started.admin}/api/events`, { method: 'POST' });
    assert.deepEqual([res.status, res.headers.allow], [405, 'GET']);
  });

  it('ends open streams when the balancer closes, so closing does not wait for them', async () => {
    const started = await fx.start(await fx.backends('a'));
    const events = await stream(`${started.admin}/api/events`);
    await events.next((e) => e.event === 'snapshot');
    const t0 = performance.now();
    await started.balancer.close();
    const elapsed = performance.now() - t0;
    await events.ended;
    assert.equal(events.events.at(-1)!.event, 'closing');
    // The admin listener would otherwise give the stream its 2 s grace.
    assert.ok(elapsed < 1000, `close took ${Math.round(elapsed)} ms`);
  });

  it('ends open streams in the graceful shutdown, when the admin listener closes', async () => {
    const started = await fx.start(await fx.backends('a'), { shutdown: { delay: 0, drainTimeout: 1000 } });
    const events = await stream(`${started.admin}/api/events`);
    await events.next((e) => e.event === 'snapshot');
    const t0 = performance.now();
    const result = await started.balancer.health.shutdown();
    const elapsed = performance.now() - t0;
    await events.ended;
    assert.equal(events.events.at(-1)!.event, 'closing');
    assert.deepEqual(result.problems, []);
    assert.ok(elapsed < 1500, `shutdown took ${Math.round(elapsed)} ms`);
  });
});
