import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Balancer } from '../src/balancer.ts';
import { parseConfigText } from '../src/cli/config-file.ts';
import { ConfigWatcher } from '../src/cli/config-watcher.ts';
import { resolveBalancerConfig } from '../src/options.ts';
import { BalancerFixture } from './support/balancer-fixture.ts';
import { until } from './support/test-backend.ts';

const fx = new BalancerFixture();
const dir = mkdtempSync(join(tmpdir(), 'readykit-reload-'));
after(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

function yaml(algorithm: string, backends: string[]): string {
  return [
    'listen: 127.0.0.1:0',
    'admin: 127.0.0.1:0',
    `algorithm: ${algorithm}`,
    'healthCheck: { interval: 50, timeout: 50, rise: 1, fall: 3 }',
    'slowStart: { window: 0 }',
    'backends:',
    ...backends.map((b) => `  - ${b}`),
    '',
  ].join('\n');
}

describe('config file reload under load', () => {
  it('follows backends, weights and algorithm edits without failing a request, and ignores a bad edit', async () => {
    const [a, b, c] = await fx.backends('a', 'b', 'c');
    const path = join(dir, 'balancer.yaml');
    writeFileSync(path, yaml('p2c-ewma', [a!.url, b!.url]));
    const logs: string[] = [];
    const balancer = new Balancer(resolveBalancerConfig(parseConfigText(readFileSync(path, 'utf8'), path)), {
      log: (line) => logs.push(line),
    });
    const watcher = new ConfigWatcher(
      {
        path,
        flags: new Map(),
        apply: (next) => balancer.reconfigure(next),
        log: (line) => logs.push(line),
        settleMs: 20,
      },
      readFileSync(path),
    );
    after(() => watcher.close());
    after(() => balancer.close());
    const { proxy } = await balancer.start();
    await until(() => balancer.backends.readyCount(performance.now()) === 2, 3000, 'a and b ready');

    // Four clients in a loop until told to stop; every answer is recorded.
    const answers: Array<{ status: number; body: string; sentAt: number }> = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        const sentAt = performance.now();
        const res = await fx.request(`${proxy}/`);
        answers.push({ status: res.status, body: res.body, sentAt });
      }
    });
    // Requests sent before a change may still finish on a removed backend: that is the point.
    const servedSince = (from: number) => new Set(answers.filter((r) => r.sentAt >= from).map((r) => r.body));
    const settle = async (what: string, check: () => boolean) => {
      await until(check, 5000, what);
      const mark = performance.now();
      const count = answers.length;
      await until(() => answers.length >= count + 40, 5000, `traffic after ${what}`);
      return mark;
    };

    writeFileSync(path, yaml('p2c-ewma', [a!.url, b!.url, c!.url]));
    await settle('c added and ready', () => balancer.backends.readyCount(performance.now()) === 3);

    writeFileSync(path, yaml('round-robin', [`${a!.url} weight=2`, b!.url, c!.url]));
    await settle('round robin', () => balancer.engine.balance.name === 'round-robin');

    writeFileSync(path, 'algorithm: [not, an, algorithm]\n');
    await until(
      () => logs.some((line) => line.startsWith('config reload rejected')),
      3000,
      'bad edit rejected',
    );
    assert.equal(balancer.engine.balance.name, 'round-robin', 'the last good configuration stays');

    writeFileSync(path, yaml('round-robin', [b!.url, c!.url]));
    const mark = await settle('a removed', () => ![...balancer.backends.all()].some((x) => x.id === a!.url));
    running = false;
    await Promise.all(clients);

    const failed = answers.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `${failed.length} of ${answers.length} requests failed`);
    assert.deepEqual([...servedSince(mark)].sort(), ['b', 'c'], logs.join('\n'));
    assert.ok(answers.length > 150, `${answers.length} requests`);
    assert.ok(logs.some((line) => line === 'config reloaded: backends applied'));
    assert.ok(logs.some((line) => line === 'config reloaded: backends, algorithm applied'));
  });
});
