import { performance } from 'node:perf_hooks';
import { type CheckResult, type CheckStatus, reasonOf } from './check-result.ts';

/**
 * A check passes when it resolves and fails when it throws, rejects or resolves `false`.
 * The signal aborts when the check's timeout expires: pass it to fetch, pools and queries.
 */
export type CheckFunction = (signal: AbortSignal) => unknown;

export type CheckKind = 'liveness' | 'readiness';

export interface HealthCheckSettings {
  readonly name: string;
  readonly kind: CheckKind;
  readonly check: CheckFunction;
  /** Milliseconds before the run fails with a timeout. */
  readonly timeout: number;
  /** When above 0, run in the background every `interval` ms and answer probes from the last result. */
  readonly interval: number;
  /** A non-critical check that fails reports `warn` and does not fail the probe. */
  readonly critical: boolean;
}

export type CheckResultListener = (name: string, kind: CheckKind, result: CheckResult) => void;

/**
 * One named check. Concurrent callers share one run (single flight). A run that times out
 * answers at once, but the slot stays taken until the check function really settles, so a
 * hung dependency never piles up calls: later runs report the stuck one instead.
 */
export class HealthCheck {
  readonly settings: HealthCheckSettings;
  #running: Promise<CheckResult> | undefined;
  #stuckSince = 0;
  #latest: CheckResult | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  readonly #onResult: CheckResultListener;

  constructor(settings: HealthCheckSettings, onResult: CheckResultListener) {
    this.settings = settings;
    this.#onResult = onResult;
  }

  get name(): string {
    return this.settings.name;
  }

  /** The last completed result, if any. */
  get latest(): CheckResult | undefined {
    return this.#latest;
  }

  /** Answers a probe: the last result in background mode, else a (shared) fresh run. */
  current(): CheckResult | Promise<CheckResult> {
    if (this.settings.interval > 0) return this.#latest ?? this.#pending();
    return this.run();
  }

  /** Runs the check now, or joins the run already in progress. */
  run(): Promise<CheckResult> {
    if (this.#running !== undefined) return this.#running;
    if (this.#stuckSince > 0) {
      const waited = Math.round(Date.now() - this.#stuckSince);
      return Promise.resolve(this.#record('fail', `previous run still pending after ${waited} ms`, 0));
    }
    this.#running = this.#execute().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Starts background runs when the check has an interval; a no-op otherwise. */
  start(): void {
    if (this.settings.interval <= 0 || !this.#stopped) return;
    this.#stopped = false;
    this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #loop(): void {
    if (this.#stopped) return;
    void this.run().then(() => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => this.#loop(), this.settings.interval);
      this.#timer.unref();
    });
  }

  #pending(): CheckResult {
    // Readiness must not pass before it was checked; liveness must not kill a pod that was not yet checked.
    const status: CheckStatus = this.settings.kind === 'readiness' ? 'fail' : 'pass';
    return { status, reason: 'not checked yet', durationMs: 0, at: Date.now() };
  }

  async #execute(): Promise<CheckResult> {
    const { timeout, check } = this.settings;
    const controller = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const outcome = (async () => check(controller.signal))().then(
      (value) => (value === false ? { ok: false, reason: 'returned false' } : { ok: true, reason: '' }),
      (error: unknown) => ({ ok: false, reason: reasonOf(error) }),
    );
    void outcome.finally(() => {
      settled = true;
      this.#stuckSince = 0;
    });
    const timedOut = new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(`timed out after ${timeout} ms`));
        resolve({ ok: false, reason: `timed out after ${timeout} ms` });
      }, timeout);
      timer.unref();
    });
    const result = await Promise.race([outcome, timedOut]);
    clearTimeout(timer);
    if (!settled) this.#stuckSince = Date.now();
    const durationMs = performance.now() - started;
    if (result.ok) return this.#record('pass', undefined, durationMs);
    return this.#record(this.settings.critical ? 'fail' : 'warn', result.reason, durationMs);
  }

  #record(status: CheckStatus, reason: string | undefined, durationMs: number): CheckResult {
    const result: CheckResult =
      reason === undefined
        ? { status, durationMs, at: Date.now() }
        : { status, reason, durationMs, at: Date.now() };
    this.#latest = result;
    this.#onResult(this.settings.name, this.settings.kind, result);
    return result;
  }
}
