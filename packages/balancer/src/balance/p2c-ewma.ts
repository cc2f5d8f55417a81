import type { Balance, Candidate, PickInput } from './candidate.ts';
import { pickPowerOfTwo } from './power-of-two-choices.ts';

/**
 * Peak-EWMA cost (Finagle, linkerd2-proxy): expected latency if one more request were sent,
 * the latency estimate times (in-flight + 1), divided by the effective weight so a heavier or
 * fully warmed-up backend looks cheaper. In-flight counts, so a backend with no history but
 * requests pending does not look free. When the backend reports its own load, the cost is
 * multiplied by its {@link Candidate.loadPenalty}: latency shows saturation late, the report
 * shows it at once.
 */
export function peakEwmaCost(candidate: Candidate, now: number): number {
  const cost = (candidate.latencyMs(now) * (candidate.inFlight + 1)) / candidate.effectiveWeight;
  return candidate.loadPenalty === undefined ? cost : cost * candidate.loadPenalty(now);
}

/**
 * The default algorithm: power of two choices over {@link peakEwmaCost}. Reacts to slow
 * backends within a few responses, without global state; see {@link pickPowerOfTwo}.
 */
export class P2cEwma implements Balance {
  readonly name = 'p2c-ewma';

  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined {
    return pickPowerOfTwo(candidates, input, peakEwmaCost);
  }
}
