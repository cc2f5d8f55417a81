import type { BackendState } from './backend-state.ts';
import { rangeOption } from './range-option.ts';

/**
 * What one readiness check of a backend found.
 * - `ready`: a 2xx answer.
 * - `not-ready`: any other HTTP answer; 503 is how a `@readykit/health` service says it is
 *   warming or draining, other statuses mean something is wrong with it.
 * - `failed`: no usable answer: timeout, connection refused or reset, malformed response.
 */
export type CheckOutcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'not-ready'; readonly status: number }
  | { readonly kind: 'failed'; readonly reason: string };

/** Hysteresis of {@link ReadinessTracker}. */
export interface ReadinessTrackerOptions {
  /** Ready checks in a row that bring a draining or down backend back to ready. @default 2 */
  rise?: number;
  /** Failed checks in a row (no answer, or a status other than 2xx and 503) that take a backend down. @default 3 */
  fall?: number;
}

/** {@link ReadinessTrackerOptions} with defaults applied, validated and frozen. */
export interface ResolvedReadinessTrackerOptions {
  readonly rise: number;
  readonly fall: number;
}

/** HAProxy's defaults: one slow probe never takes a backend out, three in a row do. */
export const DEFAULT_RISE = 2;
export const DEFAULT_FALL = 3;
const MAX_STREAK = 100;
// The status a @readykit/health service answers from the first instant of its shutdown.
const DRAINING_STATUS = 503;

/**
 * Validates `options` once; messages name `<prefix>.rise` and `<prefix>.fall`.
 * Both are whole numbers from 1 to 100.
 */
export function resolveReadinessTrackerOptions(
  options: ReadinessTrackerOptions = {},
  prefix = 'healthCheck',
): ResolvedReadinessTrackerOptions {
  const streak = { min: 1, max: MAX_STREAK, integer: true };
  return Object.freeze({
    rise: rangeOption(`${prefix}.rise`, options.rise, DEFAULT_RISE, streak),
    fall: rangeOption(`${prefix}.fall`, options.fall, DEFAULT_FALL, streak),
  });
}

/**
 * The rise/fall state machine of one backend over its check outcomes:
 *
 * | from     | to       | when                                                        |
 * |----------|----------|-------------------------------------------------------------|
 * | warming  | ready    | one ready check (Envoy: a first success marks a host healthy) |
 * | ready    | draining | one 503, at once: the backend announced its shutdown          |
 * | ready    | down     | `fall` misses in a row                                        |
 * | draining | ready    | `rise` ready checks in a row                                  |
 * | draining | down     | `fall` misses in a row (its listener closed)                  |
 * | down     | ready    | `rise` ready checks in a row                                  |
 * | any      | removed  | {@link ReadinessTracker.remove}; final                         |
 *
 * A miss is a `failed` check or a status other than 2xx and 503; a 503 breaks a run of misses
 * (the backend answers), anything but `ready` breaks a run of ready checks. A warming backend
 * stays warming whatever it answers until its first ready check: it has never taken traffic,
 * so there is nothing to take it down from.
 */
export class ReadinessTracker {
  readonly #rise: number;
  readonly #fall: number;
  #state: BackendState = 'warming';
  #since: number;
  #readyRun = 0;
  #missRun = 0;
  #lastOutcome: CheckOutcome | undefined;
  #becameReadyAt: number | undefined;

  /** `now`: when the backend was discovered, in ms on the caller's clock. */
  constructor(options: ReadinessTrackerOptions = {}, now = 0) {
    const resolved = resolveReadinessTrackerOptions(options);
    this.#rise = resolved.rise;
    this.#fall = resolved.fall;
    this.#since = now;
  }

  get state(): BackendState {
    return this.#state;
  }

  /** When the backend entered its current state (ms). */
  get since(): number {
    return this.#since;
  }

  /** The last outcome observed; `undefined` before the first check. */
  get lastOutcome(): CheckOutcome | undefined {
    return this.#lastOutcome;
  }

  /**
   * Whether the last check got an HTTP answer, whatever its status. Panic mode routes only to
   * backends that answer: one that refuses connections would fail every request sent to it.
   */
  get answered(): boolean {
    return this.#lastOutcome !== undefined && this.#lastOutcome.kind !== 'failed';
  }

  /** When the backend last entered `ready` (ms), the start of its slow start; `undefined` if never. */
  get becameReadyAt(): number | undefined {
    return this.#becameReadyAt;
  }

  /** Ready checks in a row, up to the last one. */
  get consecutiveReady(): number {
    return this.#readyRun;
  }

  /** Misses in a row (failed checks and statuses other than 2xx and 503), up to the last one. */
  get consecutiveMisses(): number {
    return this.#missRun;
  }

  /** Records one check's outcome at `now` (ms) and returns the state it leads to. */
  observe(outcome: CheckOutcome, now: number): BackendState {
    if (this.#state === 'removed') return 'removed';
    this.#lastOutcome = outcome;
    const draining = outcome.kind === 'not-ready' && outcome.status === DRAINING_STATUS;
    if (outcome.kind === 'ready') {
      this.#readyRun++;
      this.#missRun = 0;
    } else {
      this.#readyRun = 0;
      this.#missRun = draining ? 0 : this.#missRun + 1;
    }
    // Runs are capped so a backend down for weeks cannot overflow them.
    if (this.#readyRun > MAX_STREAK) this.#readyRun = MAX_STREAK;
    if (this.#missRun > MAX_STREAK) this.#missRun = MAX_STREAK;
    this.#enter(this.#next(draining), now);
    return this.#state;
  }

  /** Marks the backend gone from discovery at `now`; later outcomes are ignored. */
  remove(now: number): BackendState {
    this.#enter('removed', now);
    return this.#state;
  }

  #next(draining: boolean): BackendState {
    const risen = this.#readyRun >= this.#rise;
    const fallen = this.#missRun >= this.#fall;
    switch (this.#state) {
      case 'warming':
        return this.#readyRun > 0 ? 'ready' : 'warming';
      case 'ready':
        return draining ? 'draining' : fallen ? 'down' : 'ready';
      case 'draining':
        return risen ? 'ready' : fallen ? 'down' : 'draining';
      case 'down':
        return risen ? 'ready' : 'down';
      case 'removed':
        return 'removed';
    }
  }

  #enter(state: BackendState, now: number): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#since = now;
    if (state === 'ready') this.#becameReadyAt = now;
  }
}
