import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const fixture = new URL('./fixtures/signal-service.ts', import.meta.url).pathname;
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, string>>;
  /** Sends a signal; the first one starts the clock `exited` reports. */
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

async function start(options: object): Promise<Running> {
  const child = spawn(process.execPath, ['--conditions=readykit-source', fixture], {
    env: { ...process.env, READYKIT_TEST_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines: Array<Record<string, string>> = [];
  let signalledAt = 0;
  const kill = (signal: NodeJS.Signals): void => {
    signalledAt ||= Date.now();
    child.kill(signal);
  };
  const exited = once(child, 'exit').then(([code, signal]) => {
    children.delete(child);
    return {
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      ms: Date.now() - signalledAt,
    };
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line);
      lines.push(parsed);
      if (parsed.port) resolve(parsed.port);
    });
    child.once('exit', () => reject(new Error('fixture exited before listening')));
  });
  return { child, url: `http://127.0.0.1:${port}`, lines, kill, exited };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} runs the timeline and exits 0`, async () => {
    const svc = await start({ shutdown: { delay: 200, drainTimeout: 2000 } });
    const inflight = fetch(`${svc.url}/work?ms=400`).then((r) => r.text());
    await sleep(50);
    svc.kill(signal);
    assert.equal(await inflight, 'done', 'the in-flight request completed');
    const { code, signal: killedBy, ms } = await svc.exited;
    assert.deepEqual([code, killedBy], [0, null]);
    assert.ok(ms < 2000, `exited ${ms} ms after the signal`);
    assert.deepEqual(
      svc.lines.filter((l) => l.phase).map((l) => l.phase),
      ['delay', 'close', 'drain', 'hooks', 'done'],
    );
    assert.match(svc.lines.find((l) => l.phase === 'delay')?.detail ?? '', new RegExp(`^${signal}: `));
  });
}

test('a second signal during shutdown forces a fast exit', async () => {
  const svc = await start({ shutdown: { delay: 5000, drainTimeout: 5000 } });
  svc.kill('SIGTERM');
  await sleep(200);
  svc.kill('SIGTERM');
  const { code, ms } = await svc.exited;
  assert.equal(code, 143);
  assert.ok(ms < 1500, `exited ${ms} ms after the first signal`);
  assert.ok(svc.lines.some((l) => l.phase === 'forced' && l.detail === 'second SIGTERM'));
});

test('a drain that overruns its budget exits 1', async () => {
  const svc = await start({ shutdown: { delay: 0, drainTimeout: 200 } });
  const inflight = fetch(`${svc.url}/work?ms=5000`).catch(() => 'cut');
  await sleep(50);
  svc.kill('SIGTERM');
  const { code, ms } = await svc.exited;
  assert.equal(code, 1);
  assert.ok(ms < 1500, `exited ${ms} ms after the signal`);
  assert.equal(await inflight, 'cut');
});
