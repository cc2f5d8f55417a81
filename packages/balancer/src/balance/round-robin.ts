import type { Balance, Candidate, PickInput } from './candidate.ts';

/**
 * nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`): every pick adds each
 * candidate's effective weight to its current weight, takes the highest (the first on a tie)
 * and subtracts the total from it. Weights 5, 1, 1 give `a a b a c a a`: heavy backends are
 * interleaved with light ones rather than served in bursts.
 *
 * Current weights are kept per candidate id, so a backend keeps its place when others come and
 * go. They live in an array aligned with the candidates array and are carried over by id only
 * when the proxy hands a new array (the set changed), which also drops departed backends.
 * Excluded candidates take no part in the pick, as nginx skips failed peers.
 */
export class RoundRobin implements Balance {
  readonly name = 'round-robin';
  #candidates: readonly Candidate[] = [];
  #current = new Float64Array(0);

  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined {
    if (candidates !== this.#candidates) this.#carryOver(candidates);
    const excluded = input.excluded !== undefined && input.excluded.size > 0 ? input.excluded : undefined;
    const current = this.#current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (excluded?.has(c.id)) continue;
      current[i]! += c.effectiveWeight;
      total += c.effectiveWeight;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best]! -= total;
    return candidates[best];
  }

  #carryOver(candidates: readonly Candidate[]): void {
    const previous = new Map<string, number>();
    for (let i = 0; i < this.#candidates.length; i++)
      previous.set(this.#candidates[i]!.id, this.#current[i]!);
    const current = new Float64Array(candidates.length);
    for (let i = 0; i < candidates.length; i++) current[i] = previous.get(candidates[i]!.id) ?? 0;
    this.#candidates = candidates;
    this.#current = current;
  }
}
