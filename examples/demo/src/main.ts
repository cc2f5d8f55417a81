/**
 * `npm start`: three example services and a balancer under a steady load, a live view, and a
 * narrated scenario (rolling restart, a degraded instance, a scale-up) ending in a summary.
 * Exit codes: 0 when no request failed, 1 when some did (or the demo broke), 2 on a bad flag,
 * 130 when interrupted during the scenario.
 */
import { writeFile } from 'node:fs/promises';
import { runningPids } from './child-process.ts';
import { parseDemoArgs, USAGE, UsageError } from './cli-options.ts';
import type { FrontBalancer } from './front-balancer.ts';
import { haproxyLogLine, startHaproxyFront } from './haproxy-front.ts';
import { OpenLoopLoad } from './load.ts';
import { startReadykitFront } from './readykit-front.ts';
import { runScenario } from './scenario.ts';
import { type RunningService, type ServiceSpec, startService } from './services.ts';
import { summaryLines } from './summary.ts';
import { svgReport } from './svg-report.ts';
import { TerminalView } from './terminal-view.ts';
import { Timeline } from './timeline.ts';

let options: ReturnType<typeof parseDemoArgs>;
try {
  options = parseDemoArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`demo: ${error.message} (--help lists the options)`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

/** Three instances that warm at different speeds, as after a deploy to mixed machines. */
const SPECS: ServiceSpec[] = [
  { name: 'service 1', warmupMs: 1000 },
  { name: 'service 2', warmupMs: 2000 },
  { name: 'service 3', warmupMs: 3000 },
];
const kind = options.control ? 'plain' : 'readykit';
const parts = options.balancer === 'haproxy' || options.control ? 'rolling-restart' : 'all';

const stopping = new AbortController();
let interrupted = false;
const services: RunningService[] = [];
let balancer: FrontBalancer | undefined;
let load: OpenLoopLoad | undefined;
let timeline: Timeline | undefined;
let progress = 'starting';

const view = new TerminalView(process.stdout, {
  title: `readykit demo: ${SPECS.length} ${options.control ? 'plain Express (control)' : 'readykit'} services behind ${options.balancer === 'haproxy' ? 'HAProxy' : 'readykit-balancer'}, ${options.rate} req/s`,
  get dashboard() {
    return balancer?.dashboard ?? '-';
  },
  progress: () => progress,
  rows: () => balancer?.rows() ?? [],
  recent: () => {
    const now = load?.now() ?? 0;
    return load?.figures(now - 2500, now - 500) ?? { sent: 0, failed: 0, p50Ms: null, p99Ms: null };
  },
  total: () => load?.figures() ?? { sent: 0, failed: 0, p50Ms: null, p99Ms: null },
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // A second Ctrl-C: no more waiting.
      for (const pid of runningPids()) process.kill(pid, 'SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    view.narrate(`${signal}: stopping everything (again to kill at once)`);
    stopping.abort();
  });
}

const narrate = (line: string): void => view.narrate(line);
const quiet = (): ((line: string) => void) => () => {};
let failure: unknown;
try {
  narrate(`starting ${SPECS.length} services (warmup ${SPECS.map((s) => s.warmupMs).join(', ')} ms)`);
  services.push(...(await Promise.all(SPECS.map((spec) => startService(kind, spec, 0, quiet())))));
  for (const s of services) narrate(`${s.spec.name}: pid ${s.process.pid} on ${s.url}`);
  const onBalancerLine = (line: string): void => {
    if (/^backend |^config reloaded/.test(line)) narrate(`balancer: ${line}`);
    const haproxy = haproxyLogLine(line);
    if (haproxy !== undefined) narrate(`haproxy: ${haproxy}`);
  };
  balancer =
    options.balancer === 'haproxy'
      ? await startHaproxyFront(
          services.map((s) => s.url),
          { onLine: onBalancerLine },
        )
      : await startReadykitFront(
          services.map((s) => s.url),
          { slowStartMs: Math.max(2000, options.phaseMs), onLine: onBalancerLine },
        );
  narrate(
    `${balancer.kind === 'haproxy' ? 'haproxy' : 'readykit-balancer'}: pid ${balancer.process.pid} on ${balancer.url}`,
  );
  narrate(`dashboard: ${balancer.dashboard}`);
  view.start();
  await waitAllReady(balancer, services, stopping.signal);
  if (kind === 'plain') {
    // Plain services say ready before they are; the baseline starts once they have warmed, as the kit's does.
    await new Promise((resolve) => setTimeout(resolve, Math.max(...SPECS.map((s) => s.warmupMs))));
  }
  narrate(`every service ready; load: ${options.rate} req/s, open loop`);
  load = new OpenLoopLoad(balancer.url, options.rate);
  timeline = new Timeline(() => load!.now());
  const onServiceLine = quiet;
  if (options.scenario) {
    await runScenario(
      {
        kind,
        balancer,
        services,
        load,
        timeline,
        phaseMs: options.phaseMs,
        scaleUpWarmupMs: 2500,
        narrate,
        progress: (text) => {
          progress = text;
        },
        onServiceLine,
        signal: stopping.signal,
      },
      parts,
    );
    progress = 'done';
    narrate('scenario done');
  } else {
    timeline.begin('steady');
    progress = 'none (--no-scenario): Ctrl-C stops';
    await new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve()));
  }
} catch (error) {
  if (!stopping.signal.aborted) {
    failure = error;
    narrate(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  }
} finally {
  timeline?.end();
  await load?.stop();
  narrate('stopping the balancer and the services');
  await Promise.all([balancer?.stop(), ...services.map((s) => s.process.stop(10_000))]);
  view.stop();
}

const left = runningPids();
if (left.length > 0) console.log(`still running: ${left.join(', ')}`);
if (load !== undefined && timeline !== undefined) {
  for (const line of summaryLines(load, timeline)) console.log(line);
  if (options.report !== undefined) {
    const title = `readykit demo: ${options.rate} req/s through ${options.balancer}${options.control ? ' (control: plain Express)' : ''}`;
    await writeFile(options.report, svgReport(title, load.seconds(), timeline.segments));
    console.log(`report: ${options.report}`);
  }
}
const failed = load?.figures().failed ?? 0;
if (options.control && failure === undefined) {
  console.log(`control run: ${failed} failed requests without readykit (reported, not a target)`);
}
process.exitCode =
  failure !== undefined || left.length > 0
    ? 1
    : interrupted && options.scenario
      ? 130
      : failed > 0 && !options.control
        ? 1
        : 0;

/** Until every backend takes traffic, so the baseline starts with the whole stack up. */
async function waitAllReady(
  front: FrontBalancer,
  all: readonly RunningService[],
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const service of all) {
    for (;;) {
      signal.throwIfAborted();
      const state = await front.state(service.url).catch(() => undefined);
      if (state === 'ready' || state === 'slow start') break;
      if (Date.now() > deadline) throw new Error(`${service.url} not ready after 20 s (last: ${state})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
