import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../support/components.ts';
import { startService } from '../support/service-process.ts';

// `npm start`: the demo as users run it, a child process, with shortened phases.
const DEMO = fileURLToPath(new URL('../../examples/demo/src/main.ts', import.meta.url));

interface DemoRun {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function runDemo(args: readonly string[]): DemoRun {
  // A pipe, not a TTY: the demo narrates in plain lines.
  const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  let buffered = '';
  const collect = (chunk: Buffer): void => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  return {
    child,
    lines,
    exited,
    waitForLine: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some((line) => pattern.test(line))) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`no line matching ${pattern}; output:\n${lines.join('\n')}`);
        }
        await sleep(50);
      }
    },
  };
}

/** The pids of every process the demo narrated starting (services, replacements, the balancer). */
function childPids(lines: readonly string[]): number[] {
  return lines.flatMap((line) => [...line.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1])));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Asserts the narration has each pattern, in this order. */
function assertInOrder(lines: readonly string[], patterns: readonly RegExp[]): void {
  let from = 0;
  for (const pattern of patterns) {
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    assert.ok(index >= 0, `${pattern} after line ${from}; output:\n${lines.join('\n')}`);
    from = index + 1;
  }
}

test('bad flags exit 2 with one line', () => {
  for (const args of [
    ['--rate', '0'],
    ['--bogus'],
    ['--balancer', 'nginx'],
    ['--report', 'out.png'],
    ['extra'],
  ]) {
    const run = spawnSync(process.execPath, [DEMO, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(lines[0]!, /^demo: /);
  }
});

test('the scenario: rolling restart, degraded instance, scale-up; 0 failed requests; an SVG report', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'demo-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const report = join(dir, 'run.svg');
  const demo = runDemo(['--phase-seconds', '1', '--rate', '100', '--report', report]);
  const code = await demo.exited;
  const lines = demo.lines;
  assert.equal(code, 0, lines.join('\n'));

  assertInOrder(lines, [
    /dashboard: http:\/\/127\.0\.0\.1:\d+\//,
    /every service ready/,
    /baseline: steady load/,
    /service 1: SIGTERM/,
    /balancer: backend \S+ draining/,
    /service 1: out of rotation/,
    /service 1: exited \(0\)/,
    /service 1: back in rotation/,
    /service 2: SIGTERM/,
    /service 2: back in rotation/,
    /service 3: SIGTERM/,
    /service 3: back in rotation/,
    /rolling restart done/,
    /service 2: degraded, \+50 ms/,
    /service 2: recovered/,
    /service 4: pid \d+ on http:\/\/127\.0\.0\.1:\d+, added/,
    /balancer: config reloaded: backends applied/,
    /service 4: ready; slow start/,
    /service 4: at full weight/,
    /scenario done/,
  ]);
  const summary = lines.find((line) => line.startsWith('summary: '));
  const m = /^summary: (\d+) requests sent, (\d+) failed/.exec(summary ?? '');
  assert.ok(m, lines.join('\n'));
  assert.equal(Number(m[2]), 0, 'failed requests');
  assert.ok(Number(m[1]) > 1500, `sent ${m[1]} requests`);
  for (const phase of ['rolling restart', 'degraded instance', 'scale-up']) {
    assert.ok(
      lines.some((line) =>
        new RegExp(`^${phase}: p99 before \\d+\\.\\d ms, during \\d+\\.\\d ms, after \\d+\\.\\d ms$`).test(
          line,
        ),
      ),
      `${phase} p99 line:\n${lines.join('\n')}`,
    );
  }

  const pids = childPids(lines);
  assert.equal(pids.length, 3 + 1 + 3 + 1, `pids narrated: ${pids.join(', ')}`);
  assert.deepEqual(pids.filter(alive), [], 'no process left behind');

  const svg = await readFile(report, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
  assert.match(svg, /<\/svg>\n$/);
  // Well-formed enough for a browser: every element closes, attributes quoted, no stray ampersand.
  const opened = [...svg.matchAll(/<(\w+)[^>]*?(\/?)>/g)].filter((t) => t[2] === '').map((t) => t[1]);
  const closed = [...svg.matchAll(/<\/(\w+)>/g)].map((t) => t[1]);
  assert.deepEqual(opened.sort(), closed.sort());
  assert.doesNotMatch(svg, /&(?!amp;|lt;|gt;|quot;)/);
  for (const series of ['latency-p99', 'latency-p50', 'throughput']) {
    const points = new RegExp(`<polyline[^>]*data-series="${series}"[^>]*points="([^"]+)"`).exec(svg)?.[1];
    assert.ok(points, `${series} polyline`);
    const pairs = points.split(' ');
    assert.ok(pairs.length >= 15, `${series}: ${pairs.length} points`);
    for (const pair of pairs) assert.match(pair, /^\d+(\.\d)?,\d+(\.\d)?$/);
  }
  const phases = [...svg.matchAll(/<line class="phase" data-phase="([^"]+)"/g)].map((p) => p[1]);
  assert.deepEqual(phases, [
    'baseline',
    'rolling restart',
    'after restart',
    'degraded',
    'recovered',
    'scale-up',
    'after scale-up',
  ]);
});

test('--no-scenario runs the stack until SIGINT, then exits 0 with no process left', async () => {
  const demo = runDemo(['--no-scenario', '--rate', '100']);
  await demo.waitForLine(/every service ready/, 20_000);
  await sleep(1500);
  const pids = childPids(demo.lines);
  assert.equal(pids.length, 4, demo.lines.join('\n'));
  assert.deepEqual(
    pids.filter((pid) => !alive(pid)),
    [],
    'all running before SIGINT',
  );
  demo.child.kill('SIGINT');
  const code = await demo.exited;
  assert.equal(code, 0, demo.lines.join('\n'));
  assert.ok(demo.lines.some((line) => /SIGINT: stopping everything/.test(line)));
  assert.match(
    demo.lines.find((line) => line.startsWith('summary: ')) ?? '',
    /^summary: \d+ requests sent, 0 failed/,
  );
  assert.deepEqual(pids.filter(alive), [], 'no process left behind');
});

test('SIGTERM during the scenario stops everything and exits 130', async () => {
  const demo = runDemo(['--phase-seconds', '5', '--rate', '50']);
  await demo.waitForLine(/baseline: steady load/, 20_000);
  demo.child.kill('SIGTERM');
  assert.equal(await demo.exited, 130, demo.lines.join('\n'));
  const pids = childPids(demo.lines);
  assert.equal(pids.length, 4);
  assert.deepEqual(pids.filter(alive), [], 'no process left behind');
});

test('example service: TOGGLE_LATENCY_MS makes SIGUSR2 degrade and recover it', async (t) => {
  const svc = await startService({ WARMUP_MS: '0', TOGGLE_LATENCY_MS: '50' });
  t.after(() => svc.kill('SIGKILL'));
  // The median of a few requests, so a scheduling hiccup on a busy machine does not decide.
  const median = async (): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await fetch(`${svc.url}/api/items/1`);
      assert.equal(res.status, 200);
      await res.text();
      times.push(performance.now() - start);
    }
    return times.sort((a, b) => a - b)[2]!;
  };
  await median();
  const before = await median();
  svc.kill('SIGUSR2');
  await waitForOutput(svc.output, /SIGUSR2: extra latency now 50 ms/);
  const degraded = await median();
  svc.kill('SIGUSR2');
  await waitForOutput(svc.output, /SIGUSR2: extra latency now 0 ms/);
  const recovered = await median();
  assert.ok(degraded >= 50, `degraded: ${degraded} ms`);
  assert.ok(before < 45 && recovered < 45, `before ${before} ms, recovered ${recovered} ms`);
  assert.equal(svc.child.exitCode, null, 'still running');
});

test('HAProxy with option httpchk GET /readyz: the rolling restart fails no request', async (t) => {
  if (!requireCommand(t, 'haproxy', 'haproxy')) return;
  const demo = runDemo(['--balancer', 'haproxy', '--phase-seconds', '1', '--rate', '100']);
  const code = await demo.exited;
  assert.equal(code, 0, demo.lines.join('\n'));
  assertInOrder(demo.lines, [
    /haproxy: pid \d+/,
    /service 1: SIGTERM/,
    /haproxy: s1 DOWN \(Layer7 wrong status, 503\)/,
    /service 1: exited \(0\)/,
    /service 3: back in rotation/,
    /scenario done/,
  ]);
  assert.match(
    demo.lines.find((line) => line.startsWith('summary: ')) ?? '',
    /^summary: \d+ requests sent, 0 failed/,
  );
  assert.deepEqual(childPids(demo.lines).filter(alive), []);
});

test('control: plain Express services behind HAProxy, failures reported', async (t: TestContext) => {
  if (!requireCommand(t, 'haproxy', 'haproxy')) return;
  const demo = runDemo(['--control', '--balancer', 'haproxy', '--phase-seconds', '1', '--rate', '100']);
  assert.equal(await demo.exited, 0, demo.lines.join('\n'));
  const line = demo.lines.find((l) => l.startsWith('control run: '));
  assert.match(line ?? '', /^control run: \d+ failed requests without readykit/, demo.lines.join('\n'));
  console.log(`control (plain Express behind HAProxy): ${line}`);
  assert.deepEqual(childPids(demo.lines).filter(alive), []);
});

async function waitForOutput(output: readonly string[], pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!output.some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${output.join('\n')}`);
    await sleep(10);
  }
}
