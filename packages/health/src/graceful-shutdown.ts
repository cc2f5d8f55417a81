import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { reasonOf } from './check-result.ts';
import type { InflightTracker } from './inflight-tracker.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { ResolvedHook, ResolvedShutdown } from './options.ts';

export type ShutdownPhase = 'delay' | 'close' | 'drain' | 'hooks' | 'done' | 'forced';

export interface ShutdownEvent {
  readonly phase: ShutdownPhase;
  /** Milliseconds since shutdown began. */
  readonly elapsed: number;
  readonly detail: string;
}

export interface ShutdownResult {
  /** 0 when every step finished inside its budget, 1 otherwise. */
  readonly exitCode: number;
  /** What ran out of time or failed, in a few words each. */
  readonly problems: readonly string[];
  /** Requests still in flight when the drain timeout cut them off. */
  readonly abandoned: number;
  readonly durationMs: number;
}

export interface ShutdownDeps {
  readonly settings: ResolvedShutdown;
  readonly lifecycle: Lifecycle;
  readonly tracker: InflightTracker;
  readonly hooks: () => readonly ResolvedHook[];
  readonly emit: (event: ShutdownEvent) => void;
  readonly exit: (code: number) => void;
}

/**
 * The shutdown timeline: readiness 503 at once; keep serving for `delay`; stop accepting;
 * `Connection: close` on everything in flight; wait for in-flight requests up to
 * `drainTimeout`; run cleanup hooks, each with its own timeout; exit. A second signal
 * forces a fast exit; a hard deadline at `terminationGracePeriod` guarantees one.
 */
export class GracefulShutdown {
  readonly #deps: ShutdownDeps;
  #running: Promise<ShutdownResult> | undefined;
  #startedAt = 0;
  #installed = new Map<NodeJS.Signals, () => void>();

  constructor(deps: ShutdownDeps) {
    this.#deps = deps;
  }

  get started(): boolean {
    return this.#running !== undefined;
  }

  installSignalHandlers(): void {
    for (const signal of this.#deps.settings.signals) {
      if (this.#installed.has(signal)) continue;
      const handler = (): void => this.#onSignal(signal);
      this.#installed.set(signal, handler);
      process.on(signal, handler);
    }
  }

  removeSignalHandlers(): void {
    for (const [signal, handler] of this.#installed) process.removeListener(signal, handler);
    this.#installed.clear();
  }

  /** Starts the timeline (idempotent) and resolves with its outcome. */
  run(reason: string): Promise<ShutdownResult> {
    this.#running ??= this.#timeline(reason);
    return this.#running;
  }

  #onSignal(signal: NodeJS.Signals): void {
    if (!this.started) {
      void this.run(signal);
      return;
    }
    this.#force(`second ${signal}`, 128 + signalNumber(signal));
  }

  #force(why: string, code: number): void {
    for (const server of this.#deps.tracker.servers) server.closeAllConnections();
    this.#emit('forced', why);
    this.#deps.exit(code);
  }

  async #timeline(reason: string): Promise<ShutdownResult> {
    const { settings, lifecycle, tracker } = this.#deps;
    this.#startedAt = Date.now();
    const problems: string[] = [];
    const deadline = setTimeout(
      () => this.#force(`terminationGracePeriod (${settings.terminationGracePeriod} ms) reached`, 1),
      settings.terminationGracePeriod,
    );
    deadline.unref();

    if (!lifecycle.isShuttingDown) lifecycle.transition('draining');
    tracker.startDraining();
    this.#emit('delay', `${reason}: readiness failing, serving for ${settings.delay} ms more`);
    if (settings.delay > 0) await sleep(settings.delay);

    const closed = [...tracker.servers].map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          server.close(() => resolve());
        }),
    );
    this.#emit('close', `stopped accepting; ${tracker.size} request(s) in flight`);

    let abandoned = 0;
    if (tracker.size > 0) {
      const drainTimer = new AbortController();
      const drained = await Promise.race([
        tracker.idle().then(() => true),
        sleep(settings.drainTimeout, false, { signal: drainTimer.signal }).catch(() => false),
      ]);
      drainTimer.abort();
      if (!drained) {
        abandoned = tracker.size;
        problems.push(
          `drainTimeout (${settings.drainTimeout} ms) exceeded with ${abandoned} request(s) in flight`,
        );
      }
    }
    for (const server of tracker.servers) server.closeAllConnections();
    await Promise.all(closed);
    this.#emit('drain', abandoned === 0 ? 'all requests finished' : problems[problems.length - 1]!);

    problems.push(...(await runHooks(this.#deps.hooks())));
    this.#emit('hooks', problems.length === 0 ? 'cleanup hooks done' : problems.join('; '));

    clearTimeout(deadline);
    if (lifecycle.state === 'draining') lifecycle.transition('stopped');
    const result: ShutdownResult = {
      exitCode: problems.length === 0 ? 0 : 1,
      problems,
      abandoned,
      durationMs: Date.now() - this.#startedAt,
    };
    this.#emit('done', `exit ${result.exitCode} after ${result.durationMs} ms`);
    if (settings.exit) this.#deps.exit(result.exitCode);
    return result;
  }

  #emit(phase: ShutdownPhase, detail: string): void {
    this.#deps.emit({ phase, elapsed: Date.now() - this.#startedAt, detail });
  }
}

/**
 * Runs cleanup hooks one after another, each under its own timeout, and returns what went
 * wrong in a few words each; a hook that fails or hangs never stops the ones after it.
 */
export async function runHooks(hooks: readonly ResolvedHook[]): Promise<string[]> {
  const problems: string[] = [];
  for (const hook of hooks) {
    const problem = await runHook(hook);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

async function runHook(hook: ResolvedHook): Promise<string | undefined> {
  const timer = new AbortController();
  try {
    const outcome = await Promise.race([
      (async () => {
        await hook.hook();
        return undefined;
      })(),
      sleep(hook.timeout, `hook ${hook.name} timed out after ${hook.timeout} ms`, { signal: timer.signal }),
    ]);
    return outcome;
  } catch (error) {
    return `hook ${hook.name} failed: ${reasonOf(error)}`;
  } finally {
    timer.abort();
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 1;
}
