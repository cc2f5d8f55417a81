/**
 * What a balancing algorithm sees of a backend: enough to compare loads, nothing to mutate.
 * The proxy hands pick functions only backends that may take new requests (ready, not
 * draining, not ejected; or, in panic mode, every reachable one).
 */
export interface Candidate {
  /** Stable key: the backend's origin, e.g. `http://10.0.0.7:3000`. */
  readonly id: string;
  /** Configured weight (default 1), positive. Consistent hashing uses this one. */
  readonly weight: number;
  /** Weight now: `weight` scaled by slow start (a fraction of it while ramping up), positive. */
  readonly effectiveWeight: number;
  /** Requests sent to this backend and not finished yet. */
  readonly inFlight: number;
  /**
   * Peak-EWMA latency estimate in ms at `now` (decayed while idle; failures raise it). A backend
   * without history answers a neutral prior, never 0.
   */
  latencyMs(now: number): number;
  /**
   * Cost multiplier from the load the backend reports itself (its ORCA `application_utilization`),
   * at least 1; absent or 1 when it reports none.
   */
  loadPenalty?(now: number): number;
}

/** Everything a pick depends on besides the candidates, injected so tests are deterministic. */
export interface PickInput {
  /** Uniform in [0, 1). */
  readonly rng: () => number;
  /** Milliseconds on a monotonic clock (`performance.now()` in production). */
  readonly now: number;
  /** The request's hash key for consistent hashing (a header or cookie value); undefined when absent. */
  readonly hashKey?: string | undefined;
  /** Backends already tried for this request: a retry must go elsewhere. */
  readonly excluded?: ReadonlySet<string> | undefined;
}

/**
 * A balancing algorithm. `pick` returns one of `candidates` not in `input.excluded`, or
 * `undefined` when none is left. The proxy passes the same array instance while the set of
 * candidates is unchanged, so an algorithm may cache per-set work (a Maglev table) by identity.
 */
export interface Balance {
  readonly name: AlgorithmName;
  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined;
}

export const ALGORITHM_NAMES = ['p2c-ewma', 'round-robin', 'least-request', 'random', 'maglev'] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];
