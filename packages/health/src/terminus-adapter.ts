import { setTimeout as sleep } from 'node:timers/promises';
// A static import is safe here, and simpler than a dynamic import or a parameter: this module
// is reachable only through the `@readykit/health/terminus` subpath, which only services that
// already run terminus import, and `index.ts` never imports it, so `@readykit/health` itself
// never loads terminus (a test pins this). A dynamic import would turn a missing peer into a
// failure at the first failing probe instead of at startup; a parameter would make every
// caller pass in what this import already gives.
import { HealthCheckError, type HealthCheckMap, type TerminusOptions } from '@godaddy/terminus';
import type { Health } from './health.ts';
import type { ProbeReport } from './probe-report.ts';

/** One entry of the `info` / `causes` terminus puts in its JSON body, keyed by check, gate or condition name. */
export interface TerminusEntry {
  readonly status: 'pass' | 'warn' | 'fail';
  /** Present for warn and fail; `reason withheld` when `exposeReasons` is false. */
  readonly reason?: string;
}

/**
 * Options for terminus's `createTerminus(server, options)` that put readykit's verdicts and
 * shutdown settings behind terminus, for services that already use it:
 *
 * - `healthChecks`: readykit's liveness on every `paths.liveness`, readiness on every
 *   `paths.readiness`; a verdict passes unless its status is `fail`, which answers 503 with
 *   the entries as `error`/`details`.
 * - `sendFailuresDuringShutdown: false`: terminus would otherwise answer 503 on every route,
 *   liveness included, once a signal arrives; readykit's readiness fails on its own and its
 *   liveness keeps passing while draining.
 * - `beforeShutdown`: moves readykit to `draining` (readiness 503, `Connection: close` on
 *   responses not yet sent) and keeps serving for `shutdown.delay`.
 * - `timeout`: `shutdown.drainTimeout`, terminus's wait for in-flight requests.
 * - `onSignal`: readykit's cleanup hooks in order, each under its timeout; when one fails or
 *   times out it throws, so terminus logs it and exits 1 (skipping `onShutdown`).
 * - `signals`: `shutdown.signals` (terminus always handles at least one: SIGTERM when empty).
 * - `useExit0`: `shutdown.exit`, so a clean shutdown exits 0 instead of re-raising the signal.
 *
 * Calling this takes signal handling away from readykit for good (`health.detachShutdown()`),
 * so pass the result to `createTerminus()` at once. Terminus cannot reach the server's
 * lifecycle from its options: still call `health.attach(server)`, which starts warmup when the
 * server listens and lets `drain()` mark in-flight responses. Terminus matches health routes on
 * the exact URL; route requests through `health.handle()` as well to answer `?verbose` and
 * `?exclude=`. `overrides` replace the option of the same name (`healthChecks` are merged).
 */
export function terminusOptions(health: Health, overrides: Partial<TerminusOptions> = {}): TerminusOptions {
  const steps = health.detachShutdown();
  const { signals, delay, drainTimeout, exit } = health.options.shutdown;
  const healthChecks: HealthCheckMap = {};
  for (const path of health.options.paths.liveness)
    healthChecks[path] = () => verdict(health.liveness(), health.options.exposeReasons);
  for (const path of health.options.paths.readiness)
    healthChecks[path] = () => verdict(health.readiness(), health.options.exposeReasons);
  return {
    sendFailuresDuringShutdown: false,
    // Copied: terminus pushes `signal` into the array it is given, and readykit's is frozen.
    signals: [...signals],
    // Without it terminus adds SIGTERM to every list, even one that leaves it out on purpose.
    signal: signals[0] ?? 'SIGTERM',
    timeout: drainTimeout,
    useExit0: exit,
    // readykit answers probes with `Cache-Control: no-store`; terminus sends no caching header.
    headers: { 'Cache-Control': 'no-store' },
    beforeShutdown: async () => {
      steps.drain();
      if (delay > 0) await sleep(delay);
    },
    onSignal: async () => {
      const result = await steps.runHooks();
      // Only terminus sees this error: throwing is how it is told to exit 1, readykit's exit code
      // for a hook that failed or ran out of time.
      if (result.exitCode !== 0) throw new Error(`readykit cleanup hooks: ${result.problems.join('; ')}`);
    },
    ...overrides,
    healthChecks: { ...healthChecks, ...overrides.healthChecks },
  };
}

/** Resolves with the entries for terminus's 200 body, or throws its HealthCheckError for a 503. */
async function verdict(
  pending: Promise<ProbeReport>,
  exposeReasons: boolean,
): Promise<Record<string, TerminusEntry>> {
  const report = await pending;
  const entries: Record<string, TerminusEntry> = {};
  for (const { name, status, reason } of report.entries) {
    entries[name] =
      status === 'pass'
        ? { status }
        : { status, reason: exposeReasons ? (reason ?? status) : 'reason withheld' };
  }
  if (report.status !== 'fail') return entries;
  throw new HealthCheckError(`${report.kind} check failed`, entries);
}
