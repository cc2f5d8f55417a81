/** Utilization above this counts as this: the queueing factor 1 / (1 - u) stays finite. */
export const MAX_COUNTED_UTILIZATION = 0.95;

/** Settings of {@link ReportedLoad}, validated by the caller (they come from the balancer's config). */
export interface ReportedLoadOptions {
  /** How much a report counts; 0 ignores reports. */
  readonly weight: number;
  /** Time constant in ms over which an old report fades to nothing. */
  readonly decayMs: number;
}

/**
 * The load a backend says it is under (the `application_utilization` of its ORCA load report:
 * the kit reports event loop utilization), turned into a cost multiplier for the pick
 * functions. A queue's response time grows as 1 / (1 - u) (M/M/1), so the penalty is
 * `1 + weight * u / (1 - u)`: 1 for an idle backend, about 2 at u = 0.5 with weight 1, 20 at
 * saturation. A backend saturated by work the balancer cannot see (other callers, GC, a batch
 * job) then loses comparisons before its latency shows it.
 *
 * A report fades with time, so a backend that stopped getting traffic because of it is tried
 * again and sends a fresh one; the kit adds the report to every response, so one request
 * refreshes it.
 */
export class ReportedLoad {
  readonly #weight: number;
  readonly #decayMs: number;
  #utilization = 0;
  #reportedAt = 0;
  #reported = false;

  constructor(options: ReportedLoadOptions) {
    this.#weight = options.weight;
    this.#decayMs = options.decayMs;
  }

  /** Records a report received at `now` (ms, monotonic); values outside [0, 1] are clamped. */
  report(utilization: number, now: number): void {
    if (!(utilization >= 0)) return; // NaN or negative: not a report
    this.#utilization = Math.min(1, utilization);
    this.#reportedAt = now;
    this.#reported = true;
  }

  /** Whether any report arrived. */
  get reported(): boolean {
    return this.#reported;
  }

  /** The last reported utilization faded to `now`; 0 without a report. */
  utilization(now: number): number {
    if (!this.#reported) return 0;
    const elapsed = now - this.#reportedAt;
    return elapsed > 0 ? this.#utilization * Math.exp(-elapsed / this.#decayMs) : this.#utilization;
  }

  /** The cost multiplier at `now`, at least 1. */
  penalty(now: number): number {
    if (!this.#reported || this.#weight === 0) return 1;
    const u = Math.min(MAX_COUNTED_UTILIZATION, this.utilization(now));
    return 1 + (this.#weight * u) / (1 - u);
  }
}
