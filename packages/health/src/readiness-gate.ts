import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { reasonOf } from './check-result.ts';
import { ErrorCodes, ReadykitError } from './errors.ts';

/** Resolves when the thing the gate guards is warm; rejecting means "try again later". */
export type WarmupTask = (signal: AbortSignal) => Promise<unknown> | unknown;

export interface GateSettings {
  readonly name: string;
  readonly warmup: WarmupTask | undefined;
  /** Per-attempt timeout of the warmup task, in ms (0: none). */
  readonly attemptTimeout: number;
  readonly retry: BackoffPolicy;
  readonly random: () => number;
}

export type GateListener = (gate: ReadinessGate) => void;

/**
 * Holds readiness at 503 until it opens, by `open()` or by its warmup task resolving.
 * A gate opens once and stays open: conditions that come and go are readiness checks.
 */
export class ReadinessGate {
  readonly name: string;
  readonly #settings: GateSettings;
  readonly #onChange: GateListener;
  #open = false;
  #openedAt = 0;
  #attempts = 0;
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #controller: AbortController | undefined;
  #started = false;
  #stopped = false;
  #waiters: Array<() => void> = [];

  constructor(settings: GateSettings, onChange: GateListener) {
    this.name = settings.name;
    this.#settings = settings;
    this.#onChange = onChange;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** `Date.now()` when the gate opened, 0 while closed. */
  get openedAt(): number {
    return this.#openedAt;
  }

  /** Warmup attempts made so far. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Why the gate is still closed, in a few words fit for probe output. */
  get reason(): string {
    if (this.#open) return 'open';
    if (this.#lastError !== undefined) return `warming, attempt ${this.#attempts} failed: ${this.#lastError}`;
    return this.#settings.warmup === undefined ? 'waiting for open()' : 'warming';
  }

  /** Opens the gate. Idempotent. */
  open(): void {
    if (this.#open) return;
    this.#open = true;
    this.#openedAt = Date.now();
    this.#lastError = undefined;
    this.#cancelTimers();
    for (const resolve of this.#waiters.splice(0)) resolve();
    this.#onChange(this);
  }

  /** Resolves when the gate opens. */
  opened(): Promise<void> {
    if (this.#open) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Starts the warmup task, if any. Called once by the health instance. */
  start(): void {
    if (this.#started || this.#settings.warmup === undefined) return;
    this.#started = true;
    void this.#attempt();
  }

  /** Stops retrying; an attempt in progress is aborted. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimers();
    this.#controller?.abort(new ReadykitError(ErrorCodes.LIFECYCLE, 'health instance closed'));
  }

  async #attempt(): Promise<void> {
    if (this.#open || this.#stopped) return;
    const warmup = this.#settings.warmup!;
    this.#attempts++;
    const controller = new AbortController();
    this.#controller = controller;
    let timeout: NodeJS.Timeout | undefined;
    try {
      const run = (async () => warmup(controller.signal))();
      if (this.#settings.attemptTimeout > 0) {
        const ms = this.#settings.attemptTimeout;
        const expired = new Promise<never>((_, reject) => {
          timeout = setTimeout(() => {
            const error = new ReadykitError(ErrorCodes.TIMEOUT, `timed out after ${ms} ms`);
            controller.abort(error);
            reject(error);
          }, ms);
          timeout.unref();
        });
        await Promise.race([run, expired]);
      } else {
        await run;
      }
      if (!this.#stopped) this.open();
    } catch (error) {
      if (this.#open || this.#stopped) return;
      this.#lastError = reasonOf(error);
      this.#onChange(this);
      const delay = backoffDelay(this.#settings.retry, this.#attempts, this.#settings.random);
      this.#timer = setTimeout(() => void this.#attempt(), delay);
      this.#timer.unref();
    } finally {
      clearTimeout(timeout);
      this.#controller = undefined;
    }
  }

  #cancelTimers(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
