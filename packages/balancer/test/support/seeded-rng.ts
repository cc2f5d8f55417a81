/**
 * mulberry32: a tiny seeded PRNG uniform in [0, 1), so tests that draw random numbers give the
 * same answer on every run. Statistically fine for tests, not for anything else.
 */
export function seededRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An rng that returns `values` in turn (then repeats them): pins exactly which candidates P2C samples. */
export function scriptedRng(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
