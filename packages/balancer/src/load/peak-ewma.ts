/** Time constant of the decay, in ms: an observation's weight falls to 1/e after this long. */
export const DEFAULT_DECAY_MS = 10_000;
/** Estimate of a backend without history, in ms (linkerd2-proxy's default). */
export const DEFAULT_PRIOR_MS = 30;
/** Least latency a failure counts as, in ms. */
export const DEFAULT_FAILURE_PENALTY_MS = 1_000;

/** Options of {@link PeakEwma}, validated by the caller (they come from the balancer's config). */
export interface PeakEwmaOptions {
  /**
   * Time constant of the exponential decay in ms (Finagle and linkerd2-proxy use 10 s). Larger
   * remembers a peak longer; smaller forgives faster.
   * @default 10000
   */
  readonly decayMs?: number;
  /**
   * What a backend without history answers, in ms: a new backend must not look free, or every
   * request would rush to it before its first response comes back.
   * @default 30
   */
  readonly priorMs?: number;
  /**
   * The least latency a failure is observed as, in ms. A backend that fails fast would otherwise
   * look faster than the healthy ones and draw more traffic (Linkerd penalises failures by 5 s;
   * 1 s is enough to lose every comparison against a healthy backend without keeping a
   * recovered one away for long).
   * @default 1000
   */
  readonly failurePenaltyMs?: number;
}

/**
 * `estimate` after `elapsedMs` without observations: decayed exponentially toward 0 with time
 * constant `decayMs`, so a backend that looked slow and has since been left alone is tried again.
 * Finagle (`PeakEwma.get`) and tower (`RttEstimate::decay`) do this by observing an RTT of 0 on
 * every read; this is the same curve without mutating anything. Negative elapsed times (a clock
 * read out of order) count as 0.
 */
export function decayEstimate(estimate: number, elapsedMs: number, decayMs: number): number {
  return elapsedMs > 0 ? estimate * Math.exp(-elapsedMs / decayMs) : estimate;
}

/**
 * Least share of the way toward a lower RTT one response moves the estimate. Blending by elapsed
 * time alone (Finagle, tower) gives a response 2 ms after the last one a weight of 0.0002: a
 * backend answering every few ms in 2 ms would keep a 50 ms cold-start peak for half a minute,
 * and lose every comparison meanwhile. With the floor a peak is forgotten within about twenty
 * responses or `decayMs`, whichever comes first; rising stays immediate.
 */
export const MIN_RESPONSE_WEIGHT = 0.1;

/**
 * The peak-EWMA update (Finagle `PeakEwma.observe`, tower `RttEstimate::update`): an RTT above
 * the current estimate replaces it at once (peak), a lower one is blended in with weight
 * `1 - exp(-elapsed / decay)`, at least {@link MIN_RESPONSE_WEIGHT}, so the estimate is quick to
 * rise and slower to fall.
 *
 * "Current" is the estimate decayed to now ({@link decayEstimate}), as the balancer has been
 * seeing it. Finagle and tower get that by decaying on every read; blending the undecayed
 * estimate instead would let an RTT just under the current estimate raise it well above both.
 * The result always lies between `rttMs` and the current estimate.
 */
export function updateEstimate(estimate: number, elapsedMs: number, rttMs: number, decayMs: number): number {
  const decay = elapsedMs > 0 ? Math.exp(-elapsedMs / decayMs) : 1;
  const current = estimate * decay;
  if (rttMs > current) return rttMs;
  const keep = Math.min(decay, 1 - MIN_RESPONSE_WEIGHT);
  return current * keep + rttMs * (1 - keep);
}

/**
 * Peak-EWMA latency of one backend (Finagle, linkerd2-proxy, tower): the balancer's cost is this
 * estimate times (in-flight + 1). Feed it every response's RTT; read it when comparing backends.
 * Reads do not change it, and nothing allocates.
 */
export class PeakEwma {
  readonly #decayMs: number;
  readonly #priorMs: number;
  readonly #failurePenaltyMs: number;
  #estimate = 0;
  #updatedAt = 0;
  #observed = false;

  constructor(options: PeakEwmaOptions = {}) {
    this.#decayMs = options.decayMs ?? DEFAULT_DECAY_MS;
    this.#priorMs = options.priorMs ?? DEFAULT_PRIOR_MS;
    this.#failurePenaltyMs = options.failurePenaltyMs ?? DEFAULT_FAILURE_PENALTY_MS;
  }

  /** Whether any latency was observed yet (else {@link estimate} answers the prior). */
  get observed(): boolean {
    return this.#observed;
  }

  /**
   * Records a successful response that took `rttMs`, received at `now` (ms, monotonic). The
   * first one replaces the prior outright, as in Finagle: the prior is a guess, not a sample.
   */
  observe(rttMs: number, now: number): void {
    if (!(rttMs >= 0)) return; // NaN or negative: a clock glitch, not a measurement
    this.#estimate = this.#observed
      ? updateEstimate(this.#estimate, now - this.#updatedAt, rttMs, this.#decayMs)
      : rttMs;
    this.#updatedAt = now;
    this.#observed = true;
  }

  /**
   * Records a failure after `rttMs`, observed as at least `failurePenaltyMs` so it counts as a
   * peak. A failure never lowers the estimate: one that came back faster than a slow backend's
   * current estimate leaves it where it is.
   */
  observeFailure(rttMs: number, now: number): void {
    // A failure without a usable RTT (NaN) still counts as the penalty.
    const penalised = Math.max(Number.isNaN(rttMs) ? 0 : rttMs, this.#failurePenaltyMs);
    this.observe(this.#observed ? Math.max(penalised, this.estimate(now)) : penalised, now);
  }

  /** Forgets every observation: {@link estimate} answers the prior again until the next one. */
  reset(): void {
    this.#observed = false;
  }

  /** The latency estimate at `now` in ms: decayed since the last observation, `priorMs` before the first. */
  estimate(now: number): number {
    if (!this.#observed) return this.#priorMs;
    return decayEstimate(this.#estimate, now - this.#updatedAt, this.#decayMs);
  }
}
