/**
 * Readiness probe latency while the readiness check itself takes 2 s, side by side:
 *   1. readykit, check in background mode: probes answer from the last result;
 *   2. readykit, the same check per probe: probes share one run (single flight) but wait for it;
 *   3. readykit with no checks, for scale;
 *   4. a bare node:http server: the floor this harness measures on this machine.
 * Each scenario runs in its own server process (probe-server.ts). The load generator sends
 * rounds of CONCURRENCY concurrent `GET /readyz` over keep-alive connections and times each
 * probe client-side. Exits non-zero on errors (including an unexpected probe status), never
 * on a missed target.
 *
 *   npm run bench            (repo root: builds the packages first)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runBench, trackChild } from './bench-process.ts';
import { type LatencySummary, ProbeClient, type ProbeSample, statusCounts, summarize } from './probe-load.ts';
import type { ServerPlan } from './probe-server.ts';

const PATH = '/readyz';
const CONCURRENCY = 100;
const MAX_ROUNDS = 200;
/** Cycles (one round of each interleaved scenario) start at most this often; the window spans many background check runs. */
const ROUND_PERIOD_MS = 100;
/** No new cycle starts after this much measuring. */
const SCENARIO_BUDGET_MS = 20_000;
/** Unmeasured rounds, back to back, until this long has passed (at least one): connections and JIT. */
const WARMUP_MS = 2_000;
/**
 * Before the first scenario, the load generator warms up this long against a bare server:
 * without it, whichever scenario ran first measured a noticeably higher p99 than later ones.
 */
const CLIENT_WARMUP_MS = 4_000;
const START_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;
const CHECK_MS = 2_000;
const TARGET_P99_MS = 5;
const SERVER_SCRIPT = fileURLToPath(new URL('./probe-server.ts', import.meta.url));

interface Scenario {
  readonly label: string;
  readonly plan: ServerPlan;
  /** Every measured probe must answer with this status. */
  readonly expected: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    label: `readykit, background check (interval 1000 ms, timeout 3000 ms, check ${CHECK_MS} ms)`,
    plan: { check: { sleepMs: CHECK_MS, interval: 1_000, timeout: 3_000 } },
    expected: 200,
  },
  {
    label: `readykit, per-probe check (interval 0, single flight, timeout 3000 ms, check ${CHECK_MS} ms)`,
    plan: { check: { sleepMs: CHECK_MS, interval: 0, timeout: 3_000 } },
    expected: 200,
  },
  { label: 'readykit, no checks (for scale)', plan: {}, expected: 200 },
  { label: 'harness floor: bare node:http, no Express, no readykit', plan: { bare: true }, expected: 200 },
];

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly latency: LatencySummary;
  readonly rounds: number;
  readonly windowMs: number;
  readonly checkRuns: number;
  /** The load generator's own CPU time per round: near the round's duration means it is the bottleneck. */
  readonly clientCpuMs: number;
  readonly statuses: Map<number, number>;
}

interface RunningServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Readiness check runs the server has reported so far. */
  readonly checkRuns: () => number;
}

interface Pinning {
  readonly pinned: boolean;
  readonly note: string;
}

async function main(): Promise<number> {
  const pinning = pinLoadGenerator();
  console.log(`probe-latency: Node ${process.version}, ${pinning.note}`);
  await warmLoadGenerator(pinning.pinned);
  // Scenarios whose rounds take milliseconds are measured interleaved, one round of each in
  // turn (rotating the order), so drift and the VM's occasional stalls hit them alike.
  const fast = SCENARIOS.filter((s) => s.plan.check?.interval !== 0);
  const slow = SCENARIOS.filter((s) => s.plan.check?.interval === 0);
  const measured = new Map<Scenario, ScenarioResult>();
  for (const group of [fast, ...slow.map((s) => [s])]) {
    for (const r of await measure(group, pinning.pinned)) measured.set(r.scenario, r);
  }
  const results = SCENARIOS.map((s) => measured.get(s)!);
  printReport(results, pinning);
  const wrong = results.filter((r) => (r.statuses.get(r.scenario.expected) ?? 0) !== r.latency.count);
  for (const r of wrong) console.error(`error: unexpected probe statuses in "${r.scenario.label}"`);
  return wrong.length === 0 ? 0 : 1;
}

interface Subject {
  readonly scenario: Scenario;
  readonly server: RunningServer;
  readonly client: ProbeClient;
  readonly samples: ProbeSample[];
  cpuMicros: number;
  rounds: number;
}

async function measure(group: readonly Scenario[], pin: boolean): Promise<ScenarioResult[]> {
  const subjects: Subject[] = [];
  try {
    for (const scenario of group) {
      const server = await startServer(scenario.plan, pin);
      const client = await ProbeClient.connect(server.port, CONCURRENCY, REQUEST_TIMEOUT_MS);
      subjects.push({ scenario, server, client, samples: [], cpuMicros: 0, rounds: 0 });
      const n = SCENARIOS.indexOf(scenario) + 1;
      const readyMs = await waitForReady(client);
      const warmupRounds = await warmUp(client, scenario.expected, WARMUP_MS);
      console.log(
        `scenario ${n}: server pid ${server.child.pid} on port ${server.port}, ready after ` +
          `${(readyMs / 1000).toFixed(2)} s; ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'}, ` +
          `${client.connected} connections open`,
      );
    }
    const runsBefore = subjects.map((s) => s.server.checkRuns());
    const started = performance.now();
    for (let cycle = 0; cycle < MAX_ROUNDS && performance.now() - started < SCENARIO_BUDGET_MS; cycle++) {
      const cycleStarted = performance.now();
      for (let i = 0; i < subjects.length; i++) {
        const subject = subjects[(cycle + i) % subjects.length]!;
        const cpuBefore = process.cpuUsage();
        subject.samples.push(...(await subject.client.round(PATH, CONCURRENCY)));
        const cpu = process.cpuUsage(cpuBefore);
        subject.cpuMicros += cpu.user + cpu.system;
        subject.rounds++;
      }
      const rest = ROUND_PERIOD_MS - (performance.now() - cycleStarted);
      if (rest > 0) await sleep(rest);
    }
    const windowMs = performance.now() - started;
    return subjects.map((s, i) => ({
      scenario: s.scenario,
      latency: summarize(s.samples),
      rounds: s.rounds,
      windowMs,
      checkRuns: s.server.checkRuns() - runsBefore[i]!,
      clientCpuMs: s.cpuMicros / 1000 / s.rounds,
      statuses: statusCounts(s.samples),
    }));
  } finally {
    for (const s of subjects) {
      s.client.destroy();
      await stopServer(s.server.child);
    }
  }
}

/**
 * Unmeasured rounds: the first opens every connection, the rest let both processes' JIT
 * settle (the first rounds after start-up are several times slower). Returns the count.
 */
async function warmUp(pool: ProbeClient, expected: number, forMs: number): Promise<number> {
  const started = performance.now();
  let rounds = 0;
  do {
    const bad = (await pool.round(PATH, CONCURRENCY)).find((s) => s.status !== expected);
    if (bad !== undefined) throw new Error(`warm-up probe answered ${bad.status}, expected ${expected}`);
    rounds++;
  } while (performance.now() - started < forMs);
  return rounds;
}

/** Unmeasured load against a bare server, so no scenario pays for the load generator's own warm-up. */
async function warmLoadGenerator(pin: boolean): Promise<void> {
  const server = await startServer({ bare: true }, pin);
  const pool = await ProbeClient.connect(server.port, CONCURRENCY, REQUEST_TIMEOUT_MS);
  try {
    const rounds = await warmUp(pool, 200, CLIENT_WARMUP_MS);
    console.log(`load generator: ${rounds} warm-up rounds against a bare server (pid ${server.child.pid})`);
  } finally {
    pool.destroy();
    await stopServer(server.child);
  }
}

/** Polls until readiness answers 200 (the first background result is in); returns how long it took. */
async function waitForReady(pool: ProbeClient): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { status } = await pool.probe(PATH);
    const elapsed = performance.now() - started;
    if (status === 200) return elapsed;
    if (elapsed > READY_TIMEOUT_MS) throw new Error(`readiness still ${status} after ${READY_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

async function startServer(plan: ServerPlan, pin: boolean): Promise<RunningServer> {
  const args = [SERVER_SCRIPT, JSON.stringify(plan)];
  const child = pin
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  trackChild(child);
  let checkRuns = 0;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not report its port within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`server exited before listening (code ${code}, signal ${signal})`)),
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const [word, value] = line.split(' ');
        if (word === 'port') {
          clearTimeout(timer);
          resolve(Number(value));
        } else if (word === 'check') checkRuns++;
      });
    });
    return { child, port, checkRuns: () => checkRuns };
  } catch (error) {
    await stopServer(child);
    throw error;
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(force);
}

/** Pins this process (every thread) to CPU 1 when the server can be pinned to CPU 0. */
function pinLoadGenerator(): Pinning {
  if (availableParallelism() < 2) return { pinned: false, note: 'not pinned (fewer than 2 CPUs)' };
  const server = spawnSync('taskset', ['-c', '0', process.execPath, '-e', ''], { stdio: 'ignore' });
  if (server.error !== undefined) return { pinned: false, note: 'not pinned (no taskset)' };
  const self = spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  if (server.status !== 0 || self.status !== 0)
    return { pinned: false, note: 'not pinned (taskset could not use CPUs 0 and 1)' };
  return { pinned: true, note: 'server pinned to CPU 0, load generator to CPU 1 (taskset)' };
}

function printReport(results: readonly ScenarioResult[], pinning: Pinning): void {
  const ms = (v: number): string => v.toFixed(2);
  const lines = [
    '',
    `## Readiness probe latency: ${CONCURRENCY} concurrent GET ${PATH} per round, readiness check takes ${CHECK_MS} ms`,
    '',
    `Node ${process.version}; a lean raw-socket HTTP/1.1 client (bench/probe-load.ts), ${CONCURRENCY} keep-alive connections; ` +
      `load generator warmed up for ${CLIENT_WARMUP_MS / 1000} s against a bare server first, then ` +
      `${WARMUP_MS / 1000} s of unmeasured warm-up rounds (at least one) per scenario; ` +
      `scenarios 1, 3 and 4 measured interleaved (one round of each in turn, rotating), up to ${MAX_ROUNDS} rounds each, ` +
      `a cycle every ${ROUND_PERIOD_MS} ms at most, ${SCENARIO_BUDGET_MS / 1000} s budget; scenario 2 alone; ` +
      `${pinning.note}. Latency is client-side, request sent to body read; percentiles are nearest-rank.`,
    '',
    '| # | scenario | probes | rounds | window s | check runs | client CPU ms/round | p50 ms | p90 ms | p99 ms | max ms | statuses |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map((r, i) => {
      const { latency: l } = r;
      const statuses = [...r.statuses].map(([code, count]) => `${code} ×${count}`).join(', ');
      return (
        `| ${i + 1} | ${r.scenario.label} | ${l.count} | ${r.rounds} | ${(r.windowMs / 1000).toFixed(1)} | ` +
        `${r.checkRuns} | ${ms(r.clientCpuMs)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${statuses} |`
      );
    }),
    '',
    '"check runs": readiness check runs that finished during the measured window. ' +
      '"client CPU ms/round": CPU time the load generator itself spent per round.',
    '',
  ];
  const [background, , noChecks, floor] = results.map((r) => r.latency.p99);
  lines.push(
    `target p99 < ${TARGET_P99_MS} ms: ${background! < TARGET_P99_MS ? 'met' : 'NOT met'} (${ms(background!)} ms)`,
    `for comparison, p99 with no checks: ${ms(noChecks!)} ms; harness floor (bare node:http): ${ms(floor!)} ms`,
    '',
    'Reproduce: npm run bench   (at the repo root; builds the packages, then runs bench/probe-latency.ts)',
  );
  console.log(lines.join('\n'));
}

runBench('probe-latency', main);
