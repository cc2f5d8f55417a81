import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigWatcher } from '../../src/cli/config-watcher.ts';
import type { BalancerConfig } from '../../src/options.ts';
import { until } from '../support/test-backend.ts';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

function config(backends: string[], algorithm = 'p2c-ewma'): string {
  return `admin: 127.0.0.1:0\nalgorithm: ${algorithm}\nbackends:\n${backends.map((b) => `  - ${b}\n`).join('')}`;
}

function watcherOn(path: string, flags = new Map<string, unknown>()) {
  const applied: BalancerConfig[] = [];
  const logs: string[] = [];
  const watcher = new ConfigWatcher(
    {
      path,
      flags,
      apply: (c) => applied.push(c),
      log: (line) => logs.push(line),
      settleMs: 20,
      pollMs: 60_000,
    },
    readFileSync(path),
  );
  open.push(watcher);
  return { watcher, applied, logs };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'readykit-config-'));
  open.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
  return dir;
}

describe('ConfigWatcher', () => {
  it('applies an edited file, and a file replaced by rename (how editors save)', async () => {
    const path = join(tempDir(), 'balancer.yaml');
    writeFileSync(path, config(['http://127.0.0.1:3001']));
    const { applied, logs } = watcherOn(path);

    writeFileSync(path, config(['http://127.0.0.1:3001', 'http://127.0.0.1:3002 weight=2']));
    await until(() => applied.length === 1, 3000, 'first reload');
    assert.deepEqual(applied[0]!.backends, [
      { url: 'http://127.0.0.1:3001', weight: 1 },
      { url: 'http://127.0.0.1:3002', weight: 2 },
    ]);

    writeFileSync(`${path}.tmp`, config(['http://127.0.0.1:3002'], 'round-robin'));
    renameSync(`${path}.tmp`, path);
    await until(() => applied.length === 2, 3000, 'reload after rename');
    assert.equal(applied[1]!.algorithm, 'round-robin');
    assert.deepEqual(logs, []);
  });

  it('follows a Kubernetes ConfigMap volume, where a ..data symlink is swapped', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'balancer.yaml'), config(['http://127.0.0.1:3001']));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'balancer.yaml'), join(dir, 'balancer.yaml'));
    const { applied } = watcherOn(join(dir, 'balancer.yaml'));

    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'balancer.yaml'), config(['http://127.0.0.1:3009']));
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await until(() => applied.length === 1, 3000, 'reload after the symlink swap');
    assert.equal(applied[0]!.backends[0]!.url, 'http://127.0.0.1:3009');
  });

  it('rejects an invalid edit with one line, once, keeps the last good one, and recovers', async () => {
    const path = join(tempDir(), 'balancer.yaml');
    writeFileSync(path, config(['http://127.0.0.1:3001']));
    const { watcher, applied, logs } = watcherOn(path);

    writeFileSync(path, 'algorithm: fastest\nbackends: [http://127.0.0.1:3001]\n');
    await until(() => logs.length === 1, 3000, 'rejection logged');
    assert.match(logs[0]!, /^config reload rejected: .*algorithm.*keeping the last good configuration$/);
    assert.doesNotMatch(logs[0]!, /\n/);
    await watcher.check();
    assert.equal(logs.length, 1, 'the same broken file is reported once');

    writeFileSync(path, 'backends: [\n  - oops: : :\n');
    await until(() => logs.length === 2, 3000, 'YAML error logged');
    assert.match(logs[1]!, /line \d+/);
    assert.equal(applied.length, 0);

    writeFileSync(path, config(['http://127.0.0.1:3003']));
    await until(() => applied.length === 1, 3000, 'good edit applied');
    assert.equal(applied[0]!.backends[0]!.url, 'http://127.0.0.1:3003');
  });

  it('lets flags keep winning over the reloaded file', async () => {
    const path = join(tempDir(), 'balancer.yaml');
    writeFileSync(path, config(['http://127.0.0.1:3001']));
    const { applied } = watcherOn(path, new Map([['algorithm', 'maglev']]));
    writeFileSync(path, config(['http://127.0.0.1:3002'], 'round-robin'));
    await until(() => applied.length === 1, 3000, 'reload');
    assert.equal(applied[0]!.algorithm, 'maglev');
  });

  it('does nothing after close', async () => {
    const path = join(tempDir(), 'balancer.yaml');
    writeFileSync(path, config(['http://127.0.0.1:3001']));
    const { watcher, applied } = watcherOn(path);
    watcher.close();
    writeFileSync(path, config(['http://127.0.0.1:3002']));
    await watcher.check();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(applied.length, 0);
  });
});
