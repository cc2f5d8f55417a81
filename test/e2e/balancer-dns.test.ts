import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startBalancer } from '../support/balancer-process.ts';
import { requireCommand } from '../support/components.ts';
import { DnsmasqServer } from '../support/dnsmasq-server.ts';
import { startService } from '../support/service-process.ts';

const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

test('readykit-balancer --dns follows SRV records in a real dnsmasq: weights, a new instance, a removed one', async (t) => {
  if (!requireCommand(t, 'dnsmasq', 'dnsmasq')) return;
  const services = await Promise.all([1, 2, 3].map(() => startService({ WARMUP_MS: '0' })));
  for (const service of services) cleanup.push(() => service.kill('SIGKILL'));
  const ports = services.map((service) => Number(new URL(service.url).port));
  const srv = (which: number[], weights: number[]) =>
    which.map((i, n) => ({
      name: '_http._tcp.shop.test',
      target: 'node.shop.test',
      port: ports[i]!,
      weight: weights[n]!,
    }));
  const dns = await DnsmasqServer.start({
    hosts: [['node.shop.test', '127.0.0.1']],
    srv: srv([0, 1], [10, 30]),
    ttl: 1,
  });
  cleanup.push(() => dns.close());

  const bal = await startBalancer([
    '--listen=127.0.0.1:0',
    '--admin=127.0.0.1:0',
    '--dns=_http._tcp.shop.test',
    `--dns-resolver=${dns.address}`,
    '--dns-min-ttl=200ms',
    '--health-interval=200ms',
    '--health-timeout=150ms',
  ]);
  cleanup.push(() => bal.kill('SIGKILL'));
  let report = await bal.waitFor(
    'two backends from SRV ready',
    (r) => r.backends.length === 2 && r.backends.every((b) => b.state === 'ready'),
  );
  assert.match(report.discovery, /^dns SRV _http\._tcp\.shop\.test/);
  assert.deepEqual(
    report.backends.map((b) => [Number(new URL(b.url).port), b.weight]).sort((x, y) => x[0]! - y[0]!),
    [
      [ports[0], 10],
      [ports[1], 30],
    ].sort((x, y) => x[0]! - y[0]!),
    'ports and weights come from the SRV records',
  );
  assert.equal((await fetch(`${bal.url}/api/items/1`)).status, 200);

  // The records move: instance 0 goes, instance 2 comes, within the 1 s TTL.
  await dns.setRecords({ hosts: [['node.shop.test', '127.0.0.1']], srv: srv([1, 2], [30, 30]), ttl: 1 });
  report = await bal.waitFor(
    'the SRV change followed',
    (r) =>
      r.backends.length === 2 &&
      r.backends.every((b) => b.state === 'ready') &&
      r.backends.some((b) => b.url === services[2]!.url),
    10_000,
  );
  assert.ok(!report.backends.some((b) => b.url === services[0]!.url), 'the removed record is gone');
  const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${bal.url}/api/items/2`)));
  assert.deepEqual(
    answers.map((r) => r.status),
    Array(20).fill(200),
  );

  // The resolver dies: the balancer keeps serving the last good set and says so.
  const before = bal.output.length;
  await dns.stop();
  const at = await bal.waitForLine(/dns .*(fail|refused|timeout)/i, before, 10_000);
  assert.doesNotMatch(bal.output[at]!, /\n|\bat .*:\d+:\d+/, 'one line, no stack');
  assert.equal((await fetch(`${bal.url}/api/items/3`)).status, 200);
  assert.equal((await bal.backends()).backends.length, 2);
});
