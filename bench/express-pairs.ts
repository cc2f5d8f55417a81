/**
 * What each middleware costs per request, measured against bare Express *at the same time*.
 *
 * On a shared VM the CPU's speed drifts by tens of percent from one second to the next, so
 * rounds taken one after the other (express-overhead.ts) move by more than the few
 * microseconds being compared. Here bare Express and one contender run together, both pinned
 * to CPU 0, each saturated by its own wrk on CPU 1: the scheduler splits the core between them
 * and any drift slows both alike, so the ratio of their request rates is the ratio of their
 * costs. Every round starts two fresh processes, since one process's JIT can land a few percent
 * faster or slower than the next one's. The first row pits bare against bare: its spread is
 * the method's own noise.
 *
 *   node bench/express-pairs.ts                          (every contender; part of npm run bench)
 *   node bench/express-pairs.ts async-context propagation  (only these)
 *   node bench/express-pairs.ts --rounds 15 readykit       (more rounds per pair)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CAN_PIN, haveCommand } from './balancer-processes.ts';
import { wrk } from './balancer-wrk.ts';
import { runBench } from './bench-process.ts';
import {
  type ExpressServerProcess,
  startExpressServer,
  stopExpressServer,
} from './express-server-process.ts';
import type { Variant } from './express-variants.ts';
import { percentile } from './probe-load.ts';

const CONTENDERS = [
  'bare',
  'empty-middleware',
  'async-context',
  'otel-context',
  'propagation',
  'readykit-health-only',
  'metrics-track',
  'readykit-no-propagation',
  'readykit',
  'express-prom-bundle',
] as const satisfies readonly Variant[];
type Contender = (typeof CONTENDERS)[number];

const DEFAULT_ROUNDS = 7;
/** `--rounds N`: more rounds narrow the median when telling apart costs of a few percent. */
let rounds = DEFAULT_ROUNDS;
const WARMUP_S = 2;
const DURATION_S = 4;
/** Per server: each one sees the load the single-server bench gives it. */
const CONNECTIONS = 64;
const SCRIPT = fileURLToPath(new URL('./items.lua', import.meta.url));
const SERVER_CPU = 0;
const LOAD_CPU = 1;
/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

interface PairResult {
  readonly contender: Contender;
  /** Contender req/s over bare req/s, one per round. */
  readonly ratios: readonly number[];
  /** Contender CPU time over bare CPU time, one per round (NaN without /proc). */
  readonly cpuShares: readonly number[];
  readonly bareRps: number;
  readonly errors: number;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const roundsAt = args.indexOf('--rounds');
  if (roundsAt !== -1) {
    const value = args.splice(roundsAt, 2)[1] ?? '';
    rounds = Number(value);
    if (!/^\d{1,3}$/.test(value) || rounds < 1) {
      console.error(
        `express-pairs: --rounds takes a whole number from 1 to 999, not ${JSON.stringify(value.slice(0, 20))}`,
      );
      return 2;
    }
  }
  const contenders = selected(args);
  if (contenders === undefined) return 2;
  if (!haveCommand('wrk', '--version')) {
    console.error('express-pairs: wrk is not installed. It comes from Debian: apt-get install wrk.');
    return 1;
  }
  if (!CAN_PIN)
    console.log('express-pairs: taskset is unavailable; servers are not pinned and the pairs prove less');
  const results: PairResult[] = [];
  for (const contender of contenders) {
    results.push(await measurePair(contender));
    console.log(`measured ${contender}: ${ratioCell(results.at(-1)!.ratios)}`);
  }
  printReport(results);
  const failed = results.some((r) => r.errors > 0);
  if (failed) console.error('error: some requests failed');
  return failed ? 1 : 0;
}

async function measurePair(contender: Contender): Promise<PairResult> {
  const ratios: number[] = [];
  const cpuShares: number[] = [];
  const bareRps: number[] = [];
  let errors = 0;
  for (let round = 0; round < rounds; round++) {
    // Fresh processes every round: one process's JIT can land a few percent faster or slower
    // than the next one's, so a single pair of processes would carry its luck into every round.
    // Odd rounds start the contender (and its wrk) first: whichever starts first gets a slight edge.
    const order: readonly Variant[] = round % 2 === 0 ? ['bare', contender] : [contender, 'bare'];
    const servers: ExpressServerProcess[] = [];
    try {
      for (const variant of order) servers.push(await startExpressServer(variant, SERVER_CPU));
      const bareAt = order.indexOf('bare');
      const [bare, other] = [servers[bareAt]!, servers[1 - bareAt]!];
      await loadBoth(servers[0]!, servers[1]!, WARMUP_S);
      const cpuBefore = [cpuTicks(bare), cpuTicks(other)];
      const results = await loadBoth(servers[0]!, servers[1]!, DURATION_S);
      const [b, o] = [results[bareAt]!, results[1 - bareAt]!];
      ratios.push(o.rps / b.rps);
      cpuShares.push((cpuTicks(other) - cpuBefore[1]!) / (cpuTicks(bare) - cpuBefore[0]!));
      bareRps.push(b.rps);
      errors += b.errors + o.errors;
    } finally {
      for (const server of servers) await stopExpressServer(server);
    }
  }
  return { contender, ratios, cpuShares, bareRps: median(bareRps), errors };
}

function loadBoth(a: ExpressServerProcess, b: ExpressServerProcess, seconds: number) {
  const options = { seconds, connections: CONNECTIONS, cpu: LOAD_CPU, script: SCRIPT };
  return Promise.all([wrk({ ...options, url: a.url }), wrk({ ...options, url: b.url })]);
}

/** User + system CPU time of a server so far, in clock ticks; NaN where /proc is missing. */
function cpuTicks(server: ExpressServerProcess): number {
  try {
    const stat = readFileSync(`/proc/${server.process.child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3, state.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function ratioCell(ratios: readonly number[]): string {
  return `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`;
}

function selected(names: readonly string[]): readonly Contender[] | undefined {
  if (names.length === 0) return CONTENDERS;
  const unknown = names.find((n) => !(CONTENDERS as readonly string[]).includes(n));
  if (unknown !== undefined) {
    console.error(
      `express-pairs: unknown contender ${JSON.stringify(unknown.slice(0, 40))}; one of ${CONTENDERS.join(', ')}`,
    );
    return undefined;
  }
  return CONTENDERS.filter((c) => names.includes(c));
}

function printReport(results: readonly PairResult[]): void {
  const lines = [
    '',
    `## Cost per request against bare Express at the same time (GET /api/items/:id, wrk -t1 -c${CONNECTIONS} per server)`,
    '',
    `Node ${process.version}; both servers ${CAN_PIN ? `pinned to CPU ${SERVER_CPU}, both wrk to CPU ${LOAD_CPU}` : 'unpinned'}; ` +
      `${rounds} rounds per pair, each with two fresh processes (started in alternating order), ${WARMUP_S} s of warm-up ` +
      `and ${DURATION_S} s measured; ratio = contender req/s / bare req/s ` +
      'in the same round, median (min–max); CPU share = contender CPU time / bare CPU time (near 1: the core was split evenly).',
    '',
    '| contender | ratio to bare | CPU share | bare req/s (its half of the core) |',
    '|---|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.contender === 'bare' ? 'bare (control: the method’s noise)' : r.contender} | ${ratioCell(r.ratios)} | ` +
        `${median(r.cpuShares).toFixed(2)} | ${Math.round(r.bareRps)} |`,
    ),
    '',
    `CPU time is read from /proc/<pid>/stat (${TICKS_PER_S} ticks/s).`,
    'Reproduce: node bench/express-pairs.ts   (part of npm run bench)',
  ];
  console.log(lines.join('\n'));
}

runBench('express-pairs', main);
