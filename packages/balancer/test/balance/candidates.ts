import type { Balance, Candidate, PickInput } from '../../src/balance/candidate.ts';

/** A candidate with fixed load; every field defaults to an idle backend of weight 1 and 10 ms latency. */
export function candidate(
  id: string,
  load: { weight?: number; effectiveWeight?: number; inFlight?: number; latencyMs?: number } = {},
): Candidate {
  const weight = load.weight ?? 1;
  const latencyMs = load.latencyMs ?? 10;
  return {
    id,
    weight,
    effectiveWeight: load.effectiveWeight ?? weight,
    inFlight: load.inFlight ?? 0,
    latencyMs: () => latencyMs,
  };
}

/** Candidates named `b0`, `b1`, ... with the same load. */
export function candidates(n: number, load: Parameters<typeof candidate>[1] = {}): Candidate[] {
  return Array.from({ length: n }, (_, i) => candidate(`b${i}`, load));
}

/** How many of `picks` picks went to each id (`undefined` counted as `'none'`). */
export function countPicks(
  balance: Balance,
  list: readonly Candidate[],
  picks: number,
  input: PickInput,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const id = balance.pick(list, input)?.id ?? 'none';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The share of `picks` that went to `id`. */
export function share(counts: Map<string, number>, id: string, picks: number): number {
  return (counts.get(id) ?? 0) / picks;
}
