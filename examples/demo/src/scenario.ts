import { setTimeout as sleep } from 'node:timers/promises';
import type { FrontBalancer } from './front-balancer.ts';
import type { OpenLoopLoad } from './load.ts';
import { DEGRADE_MS, type RunningService, type ServiceKind, startService } from './services.ts';
import type { Timeline } from './timeline.ts';

/** What the scenario works with; `services` is updated in place as instances are replaced and added. */
export interface ScenarioContext {
  readonly kind: ServiceKind;
  readonly balancer: FrontBalancer;
  readonly services: RunningService[];
  readonly load: OpenLoopLoad;
  readonly timeline: Timeline;
  readonly phaseMs: number;
  /** Warmup of the instance the scale-up adds. */
  readonly scaleUpWarmupMs: number;
  readonly narrate: (line: string) => void;
  readonly progress: (text: string) => void;
  readonly onServiceLine: (name: string) => (line: string) => void;
  readonly signal: AbortSignal;
}

/** Which parts of the scenario run: everything, or the rolling restart alone (HAProxy, control). */
export type ScenarioParts = 'all' | 'rolling-restart';

/** Runs the scenario, narrating each step; throws an AbortError when interrupted. */
export async function runScenario(ctx: ScenarioContext, parts: ScenarioParts): Promise<void> {
  const steps = parts === 'all' ? 4 : 2;
  ctx.timeline.begin('baseline');
  ctx.progress(`1/${steps} baseline`);
  ctx.narrate(`baseline: steady load for ${ctx.phaseMs / 1000} s`);
  await pause(ctx, ctx.phaseMs);

  ctx.progress(`2/${steps} rolling restart`);
  await rollingRestart(ctx);
  ctx.timeline.begin('after restart');
  ctx.narrate(`rolling restart done; steady for ${ctx.phaseMs / 1000} s`);
  ctx.timeline.phases.push({
    name: 'rolling restart',
    before: 'baseline',
    during: 'rolling restart',
    after: 'after restart',
  });
  await pause(ctx, ctx.phaseMs);
  if (parts === 'rolling-restart') return;

  ctx.progress(`3/${steps} degraded instance`);
  await degradeAndRecover(ctx);
  ctx.progress(`4/${steps} scale-up`);
  await scaleUp(ctx);
}

async function rollingRestart(ctx: ScenarioContext): Promise<void> {
  ctx.timeline.begin('rolling restart');
  ctx.narrate(`rolling restart: each service in turn gets SIGTERM, and a new instance on its port`);
  for (let i = 0; i < ctx.services.length; i++) {
    const old = ctx.services[i]!;
    const name = old.spec.name;
    ctx.progress(`2 rolling restart: ${name} (${i + 1}/${ctx.services.length})`);
    const signalledAt = Date.now();
    old.process.signal('SIGTERM');
    ctx.narrate(`${name}: SIGTERM`);
    const exited = old.process.exited;
    if (ctx.kind === 'readykit') {
      // Its readiness turns 503 at once; the balancer must see that before the instance stops accepting.
      await waitForState(ctx, old.url, ['draining', 'down'], 5000);
      ctx.narrate(
        `${name}: out of rotation after ${Date.now() - signalledAt} ms, still serving its requests`,
      );
    }
    const { code, signal } = await exited;
    ctx.narrate(`${name}: exited (${code ?? signal}) after ${Date.now() - signalledAt} ms`);
    const replacement = await startService(ctx.kind, old.spec, old.port, ctx.onServiceLine(name));
    ctx.services[i] = replacement;
    ctx.narrate(`${name}: new instance (pid ${replacement.process.pid}) warming for ${old.spec.warmupMs} ms`);
    await waitForState(ctx, old.url, ['ready', 'slow start'], old.spec.warmupMs + 10_000);
    ctx.narrate(`${name}: back in rotation ${Date.now() - signalledAt} ms after SIGTERM`);
    if (ctx.kind === 'plain') {
      // It says ready before it is: pace the next restart as the kit's run is paced, by the warmup.
      ctx.narrate(
        `${name}: reports ready at once; waiting out its ${old.spec.warmupMs} ms warmup before the next`,
      );
      await pause(ctx, old.spec.warmupMs);
    }
  }
}

async function degradeAndRecover(ctx: ScenarioContext): Promise<void> {
  const target = ctx.services[1] ?? ctx.services[0]!;
  ctx.timeline.begin('degraded');
  target.process.signal('SIGUSR2');
  ctx.narrate(
    `${target.spec.name}: degraded, +${DEGRADE_MS} ms on every answer, for ${ctx.phaseMs / 1000} s`,
  );
  await pause(ctx, ctx.phaseMs);
  ctx.timeline.begin('recovered');
  target.process.signal('SIGUSR2');
  ctx.narrate(`${target.spec.name}: recovered; steady for ${ctx.phaseMs / 1000} s`);
  ctx.timeline.phases.push({
    name: 'degraded instance',
    before: 'after restart',
    during: 'degraded',
    after: 'recovered',
  });
  await pause(ctx, ctx.phaseMs);
}

async function scaleUp(ctx: ScenarioContext): Promise<void> {
  const setBackends = ctx.balancer.setBackends;
  if (setBackends === undefined) return;
  ctx.timeline.begin('scale-up');
  const spec = { name: `service ${ctx.services.length + 1}`, warmupMs: ctx.scaleUpWarmupMs };
  const added = await startService(ctx.kind, spec, 0, ctx.onServiceLine(spec.name));
  ctx.services.push(added);
  await setBackends(ctx.services.map((s) => s.url));
  ctx.narrate(
    `${spec.name}: pid ${added.process.pid} on ${added.url}, added to the balancer's config file; warming behind its gate`,
  );
  await waitForState(ctx, added.url, ['warming', 'ready', 'slow start'], 10_000);
  await waitForState(ctx, added.url, ['slow start', 'ready'], spec.warmupMs + 10_000);
  ctx.narrate(`${spec.name}: ready; slow start ramps its share up`);
  await waitForState(ctx, added.url, ['ready'], ctx.phaseMs + 15_000);
  ctx.narrate(`${spec.name}: at full weight`);
  ctx.timeline.begin('after scale-up');
  ctx.timeline.phases.push({
    name: 'scale-up',
    before: 'recovered',
    during: 'scale-up',
    after: 'after scale-up',
  });
  await pause(ctx, ctx.phaseMs);
}

/** Polls the balancer until `url` is in one of `states`. */
async function waitForState(
  ctx: ScenarioContext,
  url: string,
  states: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await ctx.balancer.state(url).catch(() => undefined);
    if (state !== undefined && states.includes(state)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${url} not ${states.join(' or ')} after ${timeoutMs} ms (last: ${state ?? 'unknown'})`,
      );
    }
    await sleep(50, undefined, { signal: ctx.signal });
  }
}

function pause(ctx: ScenarioContext, ms: number): Promise<void> {
  return sleep(ms, undefined, { signal: ctx.signal });
}
