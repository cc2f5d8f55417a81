import { Backend } from './backend.ts';
import { mayEject } from './health/outlier-detector.ts';
import { inPanic } from './health/panic.ts';
import type { BackendSpec, BalancerConfig } from './options.ts';

const NONE: readonly Backend[] = Object.freeze([]);

/**
 * The backends the proxy may use, kept in step with discovery. Hands the pick functions one
 * array of candidates that stays the same instance until something changes (a state change, an
 * ejection starting or ending, a backend added or removed), so per-set work is cached.
 */
export class BackendSet {
  readonly #config: BalancerConfig;
  readonly #backends = new Map<string, Backend>();
  readonly #listeners = new Set<(backend: Backend) => void>();
  #candidates: readonly Backend[] = NONE;
  #stale = true;
  #panic = false;
  // When the earliest ejection ends: candidates are rebuilt then.
  #nextExpiry = Number.POSITIVE_INFINITY;
  #started = false;
  #fleetLatency = 0;
  #fleetLatencyAt = Number.NEGATIVE_INFINITY;

  constructor(config: BalancerConfig) {
    this.#config = config;
  }

  /**
   * Applies a backend set from discovery: new ones start warming, missing ones finish their
   * requests in flight and go; the others keep their connections and history and take their
   * new weight and drain flag.
   */
  apply(specs: readonly BackendSpec[]): void {
    const now = performance.now();
    const wanted = new Map(specs.map((spec) => [spec.url, spec]));
    for (const [id, backend] of this.#backends) {
      const spec = wanted.get(id);
      if (spec === undefined) {
        this.#backends.delete(id);
        void backend.remove(now);
      } else {
        backend.update(spec);
      }
    }
    for (const spec of wanted.values()) {
      if (this.#backends.has(spec.url)) continue;
      const backend = new Backend(spec, this.#config, (b) => this.#changed(b), now, this.#fleetLatencyOf);
      this.#backends.set(spec.url, backend);
      if (this.#started) backend.start();
    }
    this.#stale = true;
  }

  /** Starts active checks on every backend. */
  start(): void {
    this.#started = true;
    for (const backend of this.#backends.values()) backend.start();
  }

  /** The backend whose URL or name (`host:port`) this is, if it is in the set. */
  find(idOrName: string): Backend | undefined {
    const byId = this.#backends.get(idOrName);
    if (byId !== undefined) return byId;
    for (const backend of this.#backends.values()) if (backend.name === idOrName) return backend;
    return undefined;
  }

  /** Every backend currently known (removed ones are gone from here). */
  all(): IterableIterator<Backend> {
    return this.#backends.values();
  }

  get size(): number {
    return this.#backends.size;
  }

  /** Backends that may take a new request now; every answering one in panic mode. */
  candidates(now: number): readonly Backend[] {
    if (this.#stale || now >= this.#nextExpiry) this.#rebuild(now);
    return this.#candidates;
  }

  /** Whether the last rebuild found too few healthy backends (Envoy's panic mode). */
  get panic(): boolean {
    return this.#panic;
  }

  /** How many backends are ready and not ejected. */
  readyCount(now: number): number {
    let count = 0;
    for (const backend of this.#backends.values()) if (backend.routable(now)) count++;
    return count;
  }

  /**
   * Records a failed exchange with a backend (a 5xx or a connection failure) and ejects it when
   * the outlier detector says so and the cap on ejected backends allows.
   */
  recordFailure(backend: Backend, now: number): void {
    backend.stats.failures++;
    let ejected = 0;
    for (const other of this.#backends.values()) if (other.outlier.isEjected(now)) ejected++;
    const allowed = mayEject(ejected, this.#backends.size, this.#config.outlier.maxEjectionPercent);
    if (!backend.outlier.recordFailure(now, allowed)) return;
    backend.stats.ejections++;
    this.#changed(backend);
  }

  recordSuccess(backend: Backend): void {
    backend.outlier.recordSuccess();
  }

  /** Called on every state change of a backend (for logs and the dashboard). */
  onChange(listener: (backend: Backend) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    const backends = [...this.#backends.values()];
    this.#backends.clear();
    this.#stale = true;
    await Promise.all(backends.map((backend) => backend.destroy()));
  }

  #changed(backend: Backend): void {
    this.#stale = true;
    this.#fleetLatencyAt = Number.NEGATIVE_INFINITY;
    for (const listener of this.#listeners) listener(backend);
  }

  /**
   * What a backend without latency history costs: the average estimate of the routable backends
   * that have one (the configured prior while none has), recomputed at most every 50 ms so a
   * pick stays O(1).
   */
  readonly #fleetLatencyOf = (now: number): number => {
    if (now - this.#fleetLatencyAt < 50) return this.#fleetLatency;
    let sum = 0;
    let count = 0;
    for (const backend of this.#backends.values()) {
      if (backend.ewma.observed && backend.routable(now)) {
        sum += backend.ewma.estimate(now);
        count++;
      }
    }
    this.#fleetLatency = count > 0 ? sum / count : this.#config.ewma.prior;
    this.#fleetLatencyAt = now;
    return this.#fleetLatency;
  };

  #rebuild(now: number): void {
    const healthy: Backend[] = [];
    let nextExpiry = Number.POSITIVE_INFINITY;
    for (const backend of this.#backends.values()) {
      if (backend.routable(now)) healthy.push(backend);
      const until = backend.outlier.ejectedUntil;
      if (until > now && until < nextExpiry) nextExpiry = until;
    }
    this.#panic = inPanic(healthy.length, this.#backends.size, this.#config.panicThreshold);
    if (this.#panic) {
      // Better to try every backend that may still serve than to fail every request.
      const fallback: Backend[] = [];
      for (const backend of this.#backends.values()) if (servesInPanic(backend)) fallback.push(backend);
      this.#candidates = fallback.length > healthy.length ? fallback : healthy;
    } else {
      this.#candidates = healthy;
    }
    this.#nextExpiry = nextExpiry;
    this.#stale = false;
  }
}

/**
 * Who gets traffic in panic mode: ready backends even when ejected, and those the checks took
 * down while they still answer (a broken readiness endpoint, an overloaded one timing out).
 * Never a backend that said 503 on purpose (warming or draining: the kit's signal is
 * deliberate) or that an operator or discovery drained, nor one that refuses connections.
 */
function servesInPanic(backend: Backend): boolean {
  if (backend.removed || backend.drainedBy !== undefined) return false;
  const state = backend.readiness.state;
  if (state === 'ready') return true;
  if (state !== 'down') return false;
  const last = backend.readiness.lastOutcome;
  if (last === undefined) return false;
  return (
    (last.kind === 'not-ready' && last.status !== 503) ||
    (last.kind === 'failed' && last.reason === 'timeout')
  );
}
