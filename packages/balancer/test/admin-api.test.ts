import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf } from './support/balancer-fixture.ts';
import { until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const TOKEN = 'op3rator-token-for-tests';

describe('admin API: drain and undrain', () => {
  it('takes a backend out of rotation by hand, lets its request in flight finish, and puts it back', async () => {
    const [a, b] = await fx.backends('a', 'b');
    let release: () => void = () => {};
    b!.handler = (req, res) => {
      if (req.url === '/slow') release = () => res.end('b slow');
      else res.end('b');
    };
    const started = await fx.start([a!, b!], { algorithm: 'round-robin' });
    const name = encodeURIComponent(new URL(b!.url).host);

    // Round robin from a: the second request lands on b and waits there.
    assert.equal((await fx.request(`${started.proxy}/`)).body, 'a');
    const inFlight = fx.request(`${started.proxy}/slow`);
    await until(() => backendOf(started, b!).inFlight === 1, 2000, 'slow request on b');

    const drained = await fx.request(`${started.admin}/api/backends/${name}/drain`, { method: 'POST' });
    assert.equal(drained.status, 200);
    const report = JSON.parse(drained.body) as { state: string; drain: string; name: string };
    assert.deepEqual(
      [report.state, report.drain, report.name],
      ['draining', 'operator', new URL(b!.url).host],
    );

    const during = await Promise.all(Array.from({ length: 6 }, () => fx.request(`${started.proxy}/`)));
    assert.deepEqual(
      during.map((r) => r.body),
      Array(6).fill('a'),
    );
    release();
    assert.equal((await inFlight).body, 'b slow');

    // Drain is idempotent; the readiness checks keep b ready underneath.
    assert.equal(
      (await fx.request(`${started.admin}/api/backends/${name}/drain`, { method: 'POST' })).status,
      200,
    );
    assert.equal(backendOf(started, b!).readiness.state, 'ready');

    const undrained = await fx.request(
      `${started.admin}/api/backends/${encodeURIComponent(b!.url)}/undrain`,
      {
        method: 'POST',
      },
    );
    assert.equal(undrained.status, 200, 'the full URL names a backend too');
    assert.equal((JSON.parse(undrained.body) as { drain: unknown }).drain, null);
    const after = await Promise.all(Array.from({ length: 4 }, () => fx.request(`${started.proxy}/`)));
    assert.ok(
      after.some((r) => r.body === 'b'),
      'b takes requests again',
    );
  });

  it('refuses unknown backends without echoing the name, wrong methods with Allow, and bad encoding', async () => {
    const [a] = await fx.backends('a');
    const started = await fx.start([a!]);
    const unknown = await fx.request(`${started.admin}/api/backends/%3Cscript%3E/drain`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.doesNotMatch(unknown.body, /script/);
    const get = await fx.request(`${started.admin}/api/backends/${encodeURIComponent(a!.url)}/drain`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const bad = await fx.request(`${started.admin}/api/backends/%E0%A4%A/drain`, { method: 'POST' });
    assert.equal(bad.status, 400);
    const post = await fx.request(`${started.admin}/api/backends`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await fx.request(`${started.admin}/api/nothing`)).status, 404);
  });

  it('keeps an endpoint discovery drained even when an operator undrains it', async () => {
    const [a, b] = await fx.backends('a', 'b');
    const started = await fx.start([a!, b!]);
    started.balancer.backends.apply([
      { url: a!.url, weight: 1 },
      { url: b!.url, weight: 1, draining: true },
    ]);
    const backend = backendOf(started, b!);
    assert.equal(backend.drainedBy, 'discovery');
    await fx.request(`${started.admin}/api/backends/${encodeURIComponent(b!.url)}/undrain`, {
      method: 'POST',
    });
    assert.equal(backend.state, 'draining');
    assert.equal(backend.routable(performance.now()), false);
    // Discovery says it serves again: it is back, with the same connections and history.
    started.balancer.backends.apply([
      { url: a!.url, weight: 1 },
      { url: b!.url, weight: 1 },
    ]);
    assert.equal(backendOf(started, b!), backend);
    assert.equal(backend.state, 'ready');
  });
});

describe('admin API: bearer token', () => {
  it('guards /api/ with the token and leaves probes and /metrics open', async () => {
    const [a] = await fx.backends('a');
    const started = await fx.start([a!], { adminToken: TOKEN });
    const url = `${started.admin}/api/backends`;
    const none = await fx.request(url);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer realm=/);
    assert.equal(
      (await fx.request(url, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status,
      401,
    );
    assert.equal((await fx.request(url, { headers: { authorization: `Basic ${TOKEN}` } })).status, 401);
    const drain = await fx.request(`${started.admin}/api/backends/${encodeURIComponent(a!.url)}/drain`, {
      method: 'POST',
    });
    assert.equal(drain.status, 401, 'no drain without the token');
    assert.equal(backendOf(started, a!).drainedBy, undefined);

    const ok = await fx.request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body) as { backends: unknown[] }).backends.length, 1);
    assert.equal((await fx.request(`${started.admin}/readyz`)).status, 200);
    assert.equal((await fx.request(`${started.admin}/healthz`)).status, 200);
    assert.equal((await fx.request(`${started.admin}/metrics`)).status, 200);
  });
});
