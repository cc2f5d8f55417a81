import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { requireCommand } from '../../../../test/support/components.ts';
import { DnsmasqServer, type DnsRecords } from '../../../../test/support/dnsmasq-server.ts';
import { DnsDiscovery, type DnsDiscoveryOptions } from '../../src/discover/dns-discovery.ts';
import { BalancerErrorCodes } from '../../src/errors.ts';
import type { BackendSpec } from '../../src/options.ts';
import { BalancerFixture } from '../support/balancer-fixture.ts';
import { startTestBackend, until } from '../support/test-backend.ts';

/** A discovery under test with what it delivered and logged; closed after the test. */
interface Watched {
  readonly discovery: DnsDiscovery;
  readonly sets: BackendSpec[][];
  readonly lines: string[];
}

async function startDns(t: TestContext, records: DnsRecords): Promise<DnsmasqServer | undefined> {
  if (!requireCommand(t, 'dnsmasq', 'dnsmasq')) return undefined;
  const dns = await DnsmasqServer.start(records);
  t.after(() => dns.close());
  return dns;
}

function watch(t: TestContext, options: Omit<DnsDiscoveryOptions, 'log'>): Watched {
  const lines: string[] = [];
  const discovery = new DnsDiscovery({ ...options, log: (line) => lines.push(line) });
  t.after(() => discovery.close());
  const sets: BackendSpec[][] = [];
  discovery.subscribe((set) => sets.push([...set]));
  return { discovery, sets, lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const backends = (...entries: Array<[string, number]>) => entries.map(([url, weight]) => ({ url, weight }));

describe('DnsDiscovery: address records', () => {
  it('makes every A address a backend with the port of the name, weight 1', async (t) => {
    const dns = await startDns(t, {
      hosts: [
        ['api.test', '10.0.0.8'],
        ['api.test', '10.0.0.7'],
        ['api.test', 'fd00::7'],
      ],
    });
    if (dns === undefined) return;
    const { discovery, sets } = watch(t, { name: 'api.test:3000', record: 'A', resolver: dns.address });
    assert.equal(discovery.description, 'dns A api.test:3000 (resolving)');
    await until(() => sets.length > 0, 3000, 'first set');
    assert.deepEqual(sets[0], backends(['http://10.0.0.7:3000', 1], ['http://10.0.0.8:3000', 1]));
    assert.equal(discovery.description, 'dns A api.test:3000 (2 backends)');
  });

  it('reads AAAA records (IPv6 in brackets), both families by default, and the https scheme', async (t) => {
    const dns = await startDns(t, {
      hosts: [
        ['api.test', '10.0.0.7'],
        ['api.test', 'fd00::7'],
        ['api.test', 'fd00::8'],
      ],
    });
    if (dns === undefined) return;
    const six = watch(t, { name: 'api.test:3000', record: 'AAAA', resolver: dns.address });
    const both = watch(t, { name: 'api.test:8443', scheme: 'https', resolver: dns.address });
    await until(() => six.sets.length > 0 && both.sets.length > 0, 3000, 'first sets');
    assert.deepEqual(six.sets[0], backends(['http://[fd00::7]:3000', 1], ['http://[fd00::8]:3000', 1]));
    assert.deepEqual(
      both.sets[0],
      backends(['https://10.0.0.7:8443', 1], ['https://[fd00::7]:8443', 1], ['https://[fd00::8]:8443', 1]),
    );
    assert.equal(both.discovery.description, 'dns A+AAAA api.test:8443 (3 backends)');
  });

  it('delivers an empty set at once when the first answer is NXDOMAIN', async (t) => {
    const dns = await startDns(t, { hosts: [['api.test', '10.0.0.7']] });
    if (dns === undefined) return;
    const { discovery, sets } = watch(t, { name: 'missing.test:3000', resolver: dns.address });
    await until(() => sets.length > 0, 3000, 'first set');
    assert.deepEqual(sets[0], []);
    assert.equal(discovery.description, 'dns A+AAAA missing.test:3000 (0 backends)');
  });
});

describe('DnsDiscovery: SRV records', () => {
  it('takes targets, ports and weights from the lowest priority, targets resolved to addresses', async (t) => {
    const dns = await startDns(t, {
      hosts: [
        ['b1.svc.test', '127.0.0.1'],
        ['b2.svc.test', '127.0.0.2'],
        ['b2.svc.test', 'fd00::2'],
        ['b3.svc.test', '127.0.0.3'],
      ],
      srv: [
        { name: '_http._tcp.svc.test', target: 'b1.svc.test', port: 3001, priority: 10, weight: 10 },
        { name: '_http._tcp.svc.test', target: 'b2.svc.test', port: 3002, priority: 10, weight: 30 },
        { name: '_http._tcp.svc.test', target: 'b3.svc.test', port: 3003, priority: 20, weight: 60 },
      ],
    });
    if (dns === undefined) return;
    const all = watch(t, { name: '_http._tcp.svc.test', resolver: dns.address });
    const v4 = watch(t, { name: '_http._tcp.svc.test', srvTargets: 'A', resolver: dns.address });
    await until(() => all.sets.length > 0 && v4.sets.length > 0, 3000, 'first sets');
    assert.deepEqual(
      all.sets[0],
      backends(['http://127.0.0.1:3001', 10], ['http://127.0.0.2:3002', 30], ['http://[fd00::2]:3002', 30]),
    );
    assert.deepEqual(v4.sets[0], backends(['http://127.0.0.1:3001', 10], ['http://127.0.0.2:3002', 30]));
    assert.equal(all.discovery.description, 'dns SRV _http._tcp.svc.test (3 backends)');
  });

  it('scales weights above 1000 so the largest is 1000; weight 0 becomes 1', async (t) => {
    const dns = await startDns(t, {
      hosts: [['b.svc.test', '127.0.0.1']],
      srv: [
        { name: '_big._tcp.svc.test', target: 'b.svc.test', port: 1, weight: 65535 },
        { name: '_big._tcp.svc.test', target: 'b.svc.test', port: 2, weight: 32768 },
        { name: '_big._tcp.svc.test', target: 'b.svc.test', port: 3, weight: 0 },
      ],
    });
    if (dns === undefined) return;
    const { sets } = watch(t, { name: '_big._tcp.svc.test', resolver: dns.address });
    await until(() => sets.length > 0, 3000, 'first set');
    assert.deepEqual(
      sets[0],
      backends(['http://127.0.0.1:1', 1000], ['http://127.0.0.1:2', 500], ['http://127.0.0.1:3', 1]),
    );
  });

  it('reads an answer too big for UDP over TCP', async (t) => {
    const count = 60;
    const dns = await startDns(t, {
      hosts: Array.from({ length: count }, (_, i) => [
        `a-long-target-name-number-${i}.svc.test`,
        `10.1.0.${i}`,
      ]),
      srv: Array.from({ length: count }, (_, i) => ({
        name: '_many._tcp.svc.test',
        target: `a-long-target-name-number-${i}.svc.test`,
        port: 8080,
        weight: 5,
      })),
    });
    if (dns === undefined) return;
    const { sets } = watch(t, { name: '_many._tcp.svc.test', resolver: dns.address });
    await until(() => sets.length > 0, 5000, 'first set');
    assert.equal(sets[0]!.length, count);
    assert.ok(sets[0]!.every((b) => b.weight === 5 && b.url.endsWith(':8080')));
    // The truncated UDP answer, then the same question over TCP.
    assert.equal(dns.queries('SRV', '_many._tcp.svc.test'), 2);
  });

  it('delivers an empty set for a "." target (service not offered)', async (t) => {
    const dns = await startDns(t, { srv: [{ name: '_gone._tcp.svc.test' }] });
    if (dns === undefined) return;
    const { sets } = watch(t, { name: '_gone._tcp.svc.test', resolver: dns.address });
    await until(() => sets.length > 0, 3000, 'first set');
    assert.deepEqual(sets[0], []);
  });
});

describe('DnsDiscovery: re-resolution', () => {
  it('re-resolves when the TTL runs out and delivers only changes', async (t) => {
    const dns = await startDns(t, { hosts: [['api.test', '10.0.0.7']], ttl: 1 });
    if (dns === undefined) return;
    const { sets } = watch(t, { name: 'api.test:80', record: 'A', resolver: dns.address, minTtl: 200 });
    await until(() => sets.length > 0, 3000, 'first set');
    assert.deepEqual(sets[0], backends(['http://10.0.0.7', 1]));
    await sleep(1500);
    // Asked again after one TTL (not every minTtl), and the same answer is not delivered again.
    assert.equal(dns.queries('A', 'api.test'), 2);
    assert.equal(sets.length, 1);

    const rewritten = performance.now();
    await dns.setHosts([
      ['api.test', '10.0.0.7'],
      ['api.test', '10.0.0.9'],
    ]);
    await until(() => sets.length > 1, 3000, 'the rewritten set');
    assert.ok(performance.now() - rewritten < 1500, 'picked up within one TTL (1 s) and some slack');
    assert.deepEqual(sets[1], backends(['http://10.0.0.7', 1], ['http://10.0.0.9', 1]));
  });

  it('clamps the TTL between minTtl and maxTtl', async (t) => {
    const [zero, long] = await Promise.all([
      startDns(t, { hosts: [['api.test', '10.0.0.7']], ttl: 0 }),
      startDns(t, { hosts: [['api.test', '10.0.0.7']], ttl: 3600 }),
    ]);
    if (zero === undefined || long === undefined) return;
    watch(t, { name: 'api.test:80', record: 'A', resolver: zero.address, minTtl: 300 });
    watch(t, { name: 'api.test:80', record: 'A', resolver: long.address, minTtl: 100, maxTtl: 400 });
    await sleep(1350);
    // At 0, 300, 600, 900 and 1200 ms; at 0, 400, 800 and 1200 ms (a busy machine may lose one).
    assert.ok([4, 5].includes(zero.queries('A', 'api.test')), `${zero.queries('A', 'api.test')} queries`);
    assert.ok([3, 4].includes(long.queries('A', 'api.test')), `${long.queries('A', 'api.test')} queries`);
  });

  it('keeps the last set while an empty answer lasts less than maxTtl, then empties it', async (t) => {
    const dns = await startDns(t, { hosts: [['api.test', '10.0.0.7']], ttl: 0 });
    if (dns === undefined) return;
    const maxTtl = 1500;
    const { sets, lines } = watch(t, { name: 'api.test:80', resolver: dns.address, minTtl: 200, maxTtl });
    await until(() => sets.length > 0, 3000, 'first set');

    await dns.setHosts([]);
    const removed = performance.now();
    await until(() => lines.some((line) => line.includes('no records')), 3000, 'an empty answer');
    assert.match(lines.at(-1)!, /^dns A\+AAAA api\.test:80: no records .*keeping the last 1 backend/);
    await until(() => sets.length > 1, maxTtl + 2000, 'the empty set');
    assert.ok(performance.now() - removed >= maxTtl, 'not emptied before maxTtl of empty answers');
    assert.deepEqual(sets[1], []);
    assert.match(lines.at(-1)!, /the backend set is now empty/);

    // A blip shorter than maxTtl leaves the set alone.
    await dns.setHosts([['api.test', '10.0.0.8']]);
    await until(() => sets.length > 2, 3000, 'the refilled set');
    assert.deepEqual(sets[2], backends(['http://10.0.0.8', 1]));
    await dns.setHosts([]);
    await sleep(500);
    await dns.setHosts([['api.test', '10.0.0.8']]);
    await sleep(500);
    assert.equal(sets.length, 3);
  });
});

describe('DnsDiscovery: resolver failures', () => {
  for (const record of ['A', 'SRV'] as const) {
    it(`keeps the last good set while the resolver is down, then follows it again (${record})`, async (t) => {
      const before: DnsRecords = {
        hosts: [['api.test', '10.0.0.7']],
        srv: [{ name: '_http._tcp.svc.test', target: 'api.test', port: 3000, weight: 10 }],
      };
      const dns = await startDns(t, before);
      if (dns === undefined) return;
      const name = record === 'A' ? 'api.test:3000' : '_http._tcp.svc.test';
      const weight = record === 'A' ? 1 : 10;
      const { discovery, sets, lines } = watch(t, {
        name,
        record,
        resolver: dns.address,
        minTtl: 200,
        maxTtl: 800,
        timeout: 200,
        tries: 1,
      });
      await until(() => sets.length > 0, 3000, 'first set');
      assert.deepEqual(sets[0], backends(['http://10.0.0.7:3000', weight]));

      await dns.stop();
      await until(() => lines.length >= 2, 5000, 'two failed resolutions');
      for (const line of lines) {
        assert.match(
          line,
          /resolver failed \(.*ECONNREFUSED.*\); keeping the last 1 backend\(s\), retrying in \d+ ms$/,
        );
      }
      assert.equal(sets.length, 1);
      assert.match(discovery.description, /\(1 backend, resolver failing\)$/);

      await dns.setRecords({
        hosts: [['api.test', '10.0.0.9']],
        srv: [{ name: '_http._tcp.svc.test', target: 'api.test', port: 3001, weight: 20 }],
      });
      await until(() => sets.length > 1, 3000, 'the set after the restart');
      const expected = record === 'A' ? ['http://10.0.0.9:3000', 1] : ['http://10.0.0.9:3001', 20];
      assert.deepEqual(sets[1], backends(expected as [string, number]));
      assert.ok(lines.some((line) => /resolver answers again after \d+ failed/.test(line)));
      assert.doesNotMatch(discovery.description, /failing/);
    });
  }

  it('delivers nothing while the first resolution fails', async (t) => {
    const port = await closedUdpPort();
    const { discovery, sets, lines } = watch(t, {
      name: '_http._tcp.svc.test',
      resolver: `127.0.0.1:${port}`,
      minTtl: 100,
      timeout: 100,
      tries: 1,
    });
    await until(() => lines.length >= 2, 3000, 'two failed resolutions');
    assert.equal(sets.length, 0);
    assert.match(lines[0]!, /resolver failed .*; no backends known yet, retrying in \d+ ms$/);
    assert.equal(discovery.description, 'dns SRV _http._tcp.svc.test (resolver failing)');
  });

  it('refuses malformed SRV answers without crashing', async (t) => {
    // A hostile server: the right id and question flags, then bytes that run past the message.
    const server = await udpServer(t, (query) => {
      const answer = Buffer.from(query);
      answer.writeUInt16BE(0x8180, 2);
      answer.writeUInt16BE(1, 6); // one answer record that is not there
      return Buffer.concat([answer.subarray(0, query.length - 11), Buffer.from([0xc0, 0xff, 0, 33])]);
    });
    const { sets, lines } = watch(t, {
      name: '_http._tcp.svc.test',
      resolver: `127.0.0.1:${server.address().port}`,
      minTtl: 100,
      timeout: 200,
      tries: 1,
    });
    await until(() => lines.length >= 1, 3000, 'a failed resolution');
    assert.match(lines[0]!, /resolver failed \(EBADRESP: /);
    assert.equal(sets.length, 0);
  });
});

describe('DnsDiscovery: close', () => {
  it('stops re-resolving and delivering', async (t) => {
    const dns = await startDns(t, { hosts: [['api.test', '10.0.0.7']], ttl: 0 });
    if (dns === undefined) return;
    const { discovery, sets } = watch(t, {
      name: 'api.test:80',
      record: 'A',
      resolver: dns.address,
      minTtl: 100,
    });
    await until(() => dns.queries('A', 'api.test') >= 2, 3000, 'a second resolution');
    await discovery.close();
    const asked = dns.queries('A', 'api.test');
    await dns.setHosts([['api.test', '10.0.0.8']]);
    await sleep(400);
    assert.equal(dns.queries('A', 'api.test'), asked);
    assert.equal(sets.length, 1);
    let heard = false;
    discovery.subscribe(() => {
      heard = true;
    });
    assert.equal(heard, false);
  });

  for (const name of ['api.test:80', '_http._tcp.svc.test']) {
    it(`cancels a query in flight (${name})`, async (t) => {
      const silent = await udpServer(t, () => undefined);
      const { discovery, lines } = watch(t, {
        name,
        resolver: `127.0.0.1:${silent.address().port}`,
        timeout: 10_000,
        tries: 1,
      });
      await sleep(50);
      const closing = performance.now();
      await discovery.close();
      assert.ok(performance.now() - closing < 500, `close took ${performance.now() - closing} ms`);
      assert.deepEqual(lines, []);
    });
  }
});

describe('DnsDiscovery: options', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['name', {}],
    ['name', { name: 'api.test', record: 'A' }],
    ['name', { name: 'api.test:0' }],
    ['name', { name: 'api.test:70000' }],
    ['name', { name: '10.0.0.7:3000' }],
    ['name', { name: '_http._tcp.svc.test:80', record: 'SRV' }],
    ['name', { name: 'bad name.test:80' }],
    ['name', { name: `${'a'.repeat(64)}.test:80` }],
    ['record', { name: 'api.test:80', record: 'MX' }],
    ['srvTargets', { name: 'api.test:80', srvTargets: 'A' }],
    ['srvTargets', { name: '_http._tcp.svc.test', srvTargets: 'TXT' }],
    ['scheme', { name: 'api.test:80', scheme: 'ftp' }],
    ['resolver', { name: 'api.test:80', resolver: 'dns.example:53' }],
    ['resolver', { name: 'api.test:80', resolver: '127.0.0.1:0' }],
    ['resolver', { name: 'api.test:80', resolver: '[10.0.0.1]:53' }],
    ['minTtl', { name: 'api.test:80', minTtl: 10 }],
    ['maxTtl', { name: 'api.test:80', minTtl: 5000, maxTtl: 1000 }],
    ['timeout', { name: 'api.test:80', timeout: '2s' }],
    ['tries', { name: 'api.test:80', tries: 0 }],
    ['log', { name: 'api.test:80', log: 'stderr' }],
    ['minttl', { name: 'api.test:80', minttl: 100 }],
  ];
  for (const [option, options] of cases) {
    it(`refuses a bad ${option}: ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new DnsDiscovery(options as unknown as DnsDiscoveryOptions),
        (error: Error & { code?: string }) =>
          error.code === BalancerErrorCodes.INVALID_CONFIG && error.message.startsWith(`dns.${option} `),
      );
    });
  }

  it('accepts IPv6 resolvers and a trailing dot', () => {
    const discovery = new DnsDiscovery({ name: 'api.test.:80', resolver: '[::1]:5353' });
    assert.equal(discovery.description, 'dns A+AAAA api.test.:80 (resolving)');
    assert.equal(
      new DnsDiscovery({ name: '_x._tcp.svc.test', resolver: '::1' }).description,
      'dns SRV _x._tcp.svc.test (resolving)',
    );
  });
});

describe('DnsDiscovery in the balancer', () => {
  it('spreads requests over the SRV backends and moves traffic off a removed record without a failure', async (t) => {
    if (!requireCommand(t, 'dnsmasq', 'dnsmasq')) return;
    const [a, b] = await Promise.all([startTestBackend('a'), startTestBackend('b')]);
    t.after(() => Promise.all([a.close(), b.close()]));
    const portOf = (url: string) => Number(new URL(url).port);
    const record = (port: number) => ({
      name: '_http._tcp.app.test',
      target: 'host.app.test',
      port,
      weight: 10,
    });
    const dns = await startDns(t, {
      hosts: [['host.app.test', '127.0.0.1']],
      srv: [record(portOf(a.url)), record(portOf(b.url))],
    });
    if (dns === undefined) return;
    const discovery = new DnsDiscovery({
      name: '_http._tcp.app.test',
      resolver: dns.address,
      minTtl: 200,
      maxTtl: 1000,
    });
    const fx = new BalancerFixture();
    t.after(() => fx.close());
    const { balancer, proxy, admin } = await fx.startDiscovered(discovery, { algorithm: 'round-robin' }, 2);
    const report = (await (await request(`${admin}/api/backends`)).body.json()) as { discovery: string };
    assert.equal(report.discovery, 'dns SRV _http._tcp.app.test (2 backends)');

    const seen = { a: 0, b: 0 };
    let failed = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const res = await request(`${proxy}/`);
        const body = await res.body.text();
        if (res.statusCode === 200 && (body === 'a' || body === 'b')) seen[body]++;
        else failed++;
      }
    })();
    await until(() => seen.a >= 10 && seen.b >= 10, 3000, 'requests on both backends');

    // b's record goes away; dnsmasq restarts to serve it, so the resolver is down for a moment too.
    await dns.setRecords({ hosts: [['host.app.test', '127.0.0.1']], srv: [record(portOf(a.url))] });
    await until(() => balancer.backends.size === 1, 3000, 'b removed from the balancer');
    // A request sent to b just before its removal may still be finishing: let a few more pass.
    const aAtRemoval = seen.a;
    await until(() => seen.a >= aAtRemoval + 5, 3000, 'requests after the removal');
    const bAfterRemoval = seen.b;
    await until(() => seen.a >= aAtRemoval + 55, 3000, 'more requests');
    stop = true;
    await load;
    assert.equal(failed, 0);
    assert.equal(seen.b, bAfterRemoval, 'no request reached b after its removal');
    assert.equal(b.seen.length, bAfterRemoval);
  });
});

/** A UDP DNS "server" on 127.0.0.1 answering each query with what `answer` makes of it. */
async function udpServer(t: TestContext, answer: (query: Buffer) => Buffer | undefined): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const reply = answer(query);
    if (reply !== undefined) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

/** A UDP port nobody listens on: queries to it are refused at once (ICMP port unreachable). */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
