import type { Balance, Candidate, PickInput } from './candidate.ts';

/**
 * A candidate drawn at random with probability proportional to its effective weight, excluded
 * ones left out; `undefined` if none is left. Two passes over the candidates, no allocation:
 * effective weights change with slow start, so a cached prefix sum would go stale.
 */
export function pickWeightedRandom(
  candidates: readonly Candidate[],
  input: PickInput,
): Candidate | undefined {
  const excluded = input.excluded !== undefined && input.excluded.size > 0 ? input.excluded : undefined;
  let total = 0;
  for (const c of candidates) if (!excluded?.has(c.id)) total += c.effectiveWeight;
  if (total === 0) return undefined;
  let remaining = input.rng() * total;
  let last: Candidate | undefined;
  for (const c of candidates) {
    if (excluded?.has(c.id)) continue;
    remaining -= c.effectiveWeight;
    if (remaining < 0) return c;
    last = c;
  }
  // Rounding can leave `remaining` a hair above 0 after the last weight.
  return last;
}

/** Weighted random: no state, no feedback; a baseline for comparing the other algorithms. */
export class WeightedRandom implements Balance {
  readonly name = 'random';

  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined {
    return pickWeightedRandom(candidates, input);
  }
}
