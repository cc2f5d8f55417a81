import type { Balance, Candidate, PickInput } from './candidate.ts';
import { pickPowerOfTwo } from './power-of-two-choices.ts';

/**
 * Envoy's least-request cost with `active_request_bias` 1: (in-flight + 1) / effective weight,
 * the inverse of Envoy's `weight / (active + 1) ^ bias`. With equal weights it orders backends
 * by in-flight alone, as Envoy's unweighted mode does.
 */
export function leastRequestCost(candidate: Candidate): number {
  return (candidate.inFlight + 1) / candidate.effectiveWeight;
}

/**
 * Envoy's least-request balancer (`choice_count` 2): power of two choices on in-flight requests.
 * With unequal weights Envoy switches to an EDF schedule over the same ratio; comparing the ratio
 * within a P2C pair keeps one code path and still sends a heavier backend more requests.
 */
export class LeastRequest implements Balance {
  readonly name = 'least-request';

  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined {
    return pickPowerOfTwo(candidates, input, leastRequestCost);
  }
}
