import type { Candidate, PickInput } from './candidate.ts';

/** A candidate's cost at `now`; lower is better. A plain function so a pick allocates no closure. */
export type CostFunction = (candidate: Candidate, now: number) => number;

/**
 * How many pairs to sample before giving up on sampling and scanning: Finagle's `maxEffort`.
 * With one excluded backend out of n, all five pairs hit it with probability (2/n)^5.
 */
export const MAX_SAMPLES = 5;

/**
 * Power of two choices (Mitzenmacher; tower `p2c`, Finagle `P2CBalancer`): sample two distinct
 * candidates uniformly, keep the cheaper (the first sampled on a tie). Sampling without
 * replacement (`b` drawn from the n - 1 others) keeps every pair equally likely, unlike
 * Traefik's `(b + 1) % n` on collision, which favours neighbours.
 *
 * A pair touching an excluded candidate is sampled again, up to {@link MAX_SAMPLES} times; then
 * the cheapest candidate not excluded wins (a linear scan), or `undefined` if all are excluded.
 */
export function pickPowerOfTwo(
  candidates: readonly Candidate[],
  input: PickInput,
  cost: CostFunction,
): Candidate | undefined {
  const n = candidates.length;
  const excluded = input.excluded !== undefined && input.excluded.size > 0 ? input.excluded : undefined;
  if (n === 0) return undefined;
  if (n === 1) {
    const only = candidates[0]!;
    return excluded?.has(only.id) ? undefined : only;
  }
  for (let sample = 0; sample < MAX_SAMPLES; sample++) {
    const i = Math.floor(input.rng() * n);
    let j = Math.floor(input.rng() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    if (excluded !== undefined && (excluded.has(a.id) || excluded.has(b.id))) continue;
    return cost(b, input.now) < cost(a, input.now) ? b : a;
  }
  return cheapest(candidates, input.now, cost, excluded);
}

/** The cheapest candidate not in `excluded` (the first on a tie), or `undefined` if there is none. */
export function cheapest(
  candidates: readonly Candidate[],
  now: number,
  cost: CostFunction,
  excluded: ReadonlySet<string> | undefined,
): Candidate | undefined {
  let best: Candidate | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    if (excluded?.has(c.id)) continue;
    const cCost = cost(c, now);
    if (best === undefined || cCost < bestCost) {
      best = c;
      bestCost = cCost;
    }
  }
  return best;
}
