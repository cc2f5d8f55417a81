import { rangeOption } from './range-option.ts';

/** Passive health: when to eject a backend that fails the requests it is sent, and for how long. */
export interface OutlierOptions {
  /** Failed requests in a row (5xx answers, connection failures) that eject a backend. @default 5 */
  consecutiveFailures?: number;
  /** Length of a first ejection; the n-th ejection in a row lasts n times this, in ms. @default 30000 */
  baseEjectionMs?: number;
  /** Longest ejection, in ms; at least `baseEjectionMs`. @default 300000 */
  maxEjectionMs?: number;
  /** At most this % of the backends is ejected at once, see {@link mayEject}. @default 50 */
  maxEjectionPercent?: number;
}

/** {@link OutlierOptions} with defaults applied, validated and frozen. */
export interface ResolvedOutlierOptions {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

/** Envoy's consecutive_5xx, base_ejection_time and max_ejection_time. */
export const DEFAULT_CONSECUTIVE_FAILURES = 5;
export const DEFAULT_BASE_EJECTION_MS = 30_000;
export const DEFAULT_MAX_EJECTION_MS = 300_000;
/**
 * Envoy's default is 10 %, which ejects nobody but the first backend in a pool of fewer than
 * 20: a balancer for small pools of Node services is better served by half.
 */
export const DEFAULT_MAX_EJECTION_PERCENT = 50;
const DAY_MS = 86_400_000;

/** Validates `options` once; messages name `<prefix>.<option>`. */
export function resolveOutlierOptions(
  options: OutlierOptions = {},
  prefix = 'outlier',
): ResolvedOutlierOptions {
  const baseEjectionMs = rangeOption(
    `${prefix}.baseEjectionMs`,
    options.baseEjectionMs,
    DEFAULT_BASE_EJECTION_MS,
    {
      min: 1,
      max: DAY_MS,
      unit: 'ms',
    },
  );
  const maxEjectionMs = rangeOption(
    `${prefix}.maxEjectionMs`,
    options.maxEjectionMs,
    Math.max(DEFAULT_MAX_EJECTION_MS, baseEjectionMs),
    { min: baseEjectionMs, max: DAY_MS, unit: 'ms' },
  );
  return Object.freeze({
    consecutiveFailures: rangeOption(
      `${prefix}.consecutiveFailures`,
      options.consecutiveFailures,
      DEFAULT_CONSECUTIVE_FAILURES,
      { min: 1, max: 1000, integer: true },
    ),
    baseEjectionMs,
    maxEjectionMs,
    maxEjectionPercent: rangeOption(
      `${prefix}.maxEjectionPercent`,
      options.maxEjectionPercent,
      DEFAULT_MAX_EJECTION_PERCENT,
      { min: 0, max: 100 },
    ),
  });
}

/**
 * Envoy's outlier detection (consecutive failures) for one backend. After
 * `consecutiveFailures` failed requests in a row the backend is ejected for
 * `baseEjectionMs * n`, n being the number of ejections it has had lately, at most
 * `maxEjectionMs`: a backend that keeps failing stays out longer each time. n decays by one
 * for each `baseEjectionMs` spent back in service, so a backend ejected once long ago starts
 * fresh. Ejection ends by itself when its time is up; nothing else brings a backend back.
 *
 * Time is passed in (`now`, ms); state only changes when a request is recorded.
 */
export class OutlierDetector {
  readonly #threshold: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  // The multiplier stops growing once an ejection would be capped anyway, so decay from a
  // long run of ejections does not take longer than from the longest ejection.
  readonly #maxEjections: number;
  #failures = 0;
  #ejections = 0;
  #ejectedUntil = 0;

  constructor(options: OutlierOptions = {}) {
    const resolved = resolveOutlierOptions(options);
    this.#threshold = resolved.consecutiveFailures;
    this.#baseMs = resolved.baseEjectionMs;
    this.#maxMs = resolved.maxEjectionMs;
    this.#maxEjections = Math.ceil(resolved.maxEjectionMs / resolved.baseEjectionMs);
  }

  /** Failed requests in a row since the last success or ejection. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** End of the current or last ejection (ms); 0 if never ejected. */
  get ejectedUntil(): number {
    return this.#ejectedUntil;
  }

  /** Whether the backend is out of rotation at `now`. */
  isEjected(now: number): boolean {
    return now < this.#ejectedUntil;
  }

  /** Ejections remembered at `now`: the next ejection lasts one more base period than this many. */
  ejectionCount(now: number): number {
    if (this.#ejections === 0 || now < this.#ejectedUntil) return this.#ejections;
    const decayed = Math.floor((now - this.#ejectedUntil) / this.#baseMs);
    return Math.max(0, this.#ejections - decayed);
  }

  /** A request to this backend succeeded: the run of failures is over. */
  recordSuccess(): void {
    this.#failures = 0;
  }

  /**
   * A request to this backend failed at `now`. Returns true when this failure ejects the
   * backend. `allowEjection` is the pool's {@link mayEject} verdict: when it is false the
   * run of failures is kept, so the backend is ejected by its next failure once the pool
   * allows it (Envoy instead forgets it until a success, the "health check fails but host not
   * removed" surprise). Failures of requests still in flight while ejected are ignored.
   */
  recordFailure(now: number, allowEjection = true): boolean {
    if (now < this.#ejectedUntil) return false;
    if (++this.#failures < this.#threshold || !allowEjection) return false;
    const ejections = Math.min(this.ejectionCount(now) + 1, this.#maxEjections);
    this.#ejections = ejections;
    this.#ejectedUntil = now + Math.min(this.#baseMs * ejections, this.#maxMs);
    this.#failures = 0;
    return true;
  }
}

/**
 * Whether the pool may eject one more backend: `ejectedNow + 1` of `total` stays within
 * `maxEjectionPercent` %, or none is ejected yet (one may always be, as in Envoy, whatever the
 * percentage and however small the pool). False when every backend is already out. Ejecting
 * too many would push the survivors over their capacity; panic mode covers the rest.
 */
export function mayEject(
  ejectedNow: number,
  total: number,
  maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT,
): boolean {
  if (ejectedNow >= total) return false;
  if (ejectedNow === 0) return true;
  return (ejectedNow + 1) * 100 <= maxEjectionPercent * total;
}
