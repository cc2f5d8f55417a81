import { invalidConfig } from '../errors.ts';

export interface RetryBudgetOptions {
  /** Retries allowed per original request over the window, on top of the reserve. @default 0.2 */
  ratio?: number;
  /**
   * Retries allowed per second whatever the traffic, so a quiet service can still retry a
   * failure; over the window this is a reserve of `minPerSecond * ttlMs / 1000`. @default 10
   */
  minPerSecond?: number;
  /** How long a request or retry counts, in ms (1 s to 60 s, as Finagle allows). @default 10000 */
  ttlMs?: number;
}

export const DEFAULT_RETRY_BUDGET = Object.freeze({ ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 });

// The window slides in steps of ttl / BUCKETS: a count leaves it between 0.9 and 1 ttl after
// it was made. Ten steps keep each call O(1) and the estimate within 10 % of the true window.
const BUCKETS = 10;

/**
 * A retry budget as in Finagle and Linkerd (`retryRatio` 0.2, `minRetriesPerSecond` 10, `ttl`
 * 10 s): a retry is allowed while the retries made in the last `ttlMs`, this one included, stay
 * within `ratio` x the original requests in that window plus the reserve
 * `minPerSecond x ttlMs / 1000`. Under load retries are capped near 20 % extra traffic, so a
 * failing backend cannot be hammered by retry storms; at low traffic the reserve still lets a
 * few through (it is a window-wide allowance, so up to the whole reserve may be used at once,
 * as in Finagle). Retries are not requests: they never earn more retries.
 *
 * Pass a monotonic clock in ms (`performance.now()`); a clock that goes back counts into the
 * latest step. Allocation-free per call.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly ttlMs: number;
  readonly #reserve: number;
  readonly #stepMs: number;
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  #requestsInWindow = 0;
  #retriesInWindow = 0;
  #slot = 0;
  #started = false;
  #exhausted = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = number('retryBudget.ratio', options.ratio, DEFAULT_RETRY_BUDGET.ratio, 0, 1000);
    this.minPerSecond = number(
      'retryBudget.minPerSecond',
      options.minPerSecond,
      DEFAULT_RETRY_BUDGET.minPerSecond,
      0,
      1_000_000,
    );
    this.ttlMs = number('retryBudget.ttlMs', options.ttlMs, DEFAULT_RETRY_BUDGET.ttlMs, 1000, 60_000);
    this.#reserve = (this.minPerSecond * this.ttlMs) / 1000;
    this.#stepMs = this.ttlMs / BUCKETS;
  }

  /** Counts an original request (never a retry): each one earns `ratio` of a retry. */
  recordRequest(now: number): void {
    const bucket = this.#advance(now);
    this.#requests[bucket]!++;
    this.#requestsInWindow++;
  }

  /** Withdraws one retry when the budget allows it; false (and `exhausted` + 1) when it does not. */
  tryRetry(now: number): boolean {
    const bucket = this.#advance(now);
    if (this.#retriesInWindow + 1 > this.ratio * this.#requestsInWindow + this.#reserve) {
      this.#exhausted++;
      return false;
    }
    this.#retries[bucket]!++;
    this.#retriesInWindow++;
    return true;
  }

  /** Retries a `tryRetry` would grant right now, for a gauge. */
  available(now: number): number {
    this.#advance(now);
    return Math.max(
      0,
      Math.floor(this.ratio * this.#requestsInWindow + this.#reserve - this.#retriesInWindow),
    );
  }

  /** How many retries were refused since construction, for a counter. */
  get exhausted(): number {
    return this.#exhausted;
  }

  /** Drops the steps that left the window and returns the bucket `now` counts into. */
  #advance(now: number): number {
    const slot = Math.floor(now / this.#stepMs);
    if (!this.#started) {
      this.#started = true;
      this.#slot = slot;
    } else if (slot > this.#slot) {
      const expired = Math.min(slot - this.#slot, BUCKETS);
      for (let step = 1; step <= expired; step++) {
        const bucket = bucketOf(this.#slot + step);
        this.#requestsInWindow -= this.#requests[bucket]!;
        this.#retriesInWindow -= this.#retries[bucket]!;
        this.#requests[bucket] = 0;
        this.#retries[bucket] = 0;
      }
      this.#slot = slot;
    }
    return bucketOf(this.#slot);
  }
}

function bucketOf(slot: number): number {
  return ((slot % BUCKETS) + BUCKETS) % BUCKETS;
}

function number(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidConfig(key, `a number from ${min} to ${max}`, value);
  }
  return value;
}
