import { Pool } from 'undici';
import { RequestWindow } from './admin/request-window.ts';
import type { Candidate } from './balance/candidate.ts';
import { ActiveHealthCheck } from './health/active-check.ts';
import type { BackendState } from './health/backend-state.ts';
import { OutlierDetector } from './health/outlier-detector.ts';
import { type CheckOutcome, ReadinessTracker } from './health/readiness-tracker.ts';
import { slowStartFactor } from './health/slow-start.ts';
import { PeakEwma } from './load/peak-ewma.ts';
import { ReportedLoad } from './load/reported-load.ts';
import type { BackendSpec, BalancerConfig } from './options.ts';

/** Counters per backend, read by /metrics and /api/backends. */
/**
 * Who took a backend out of rotation on purpose, apart from its own readiness: an operator
 * through the admin API, or discovery (a Kubernetes endpoint terminating but still serving).
 */
export type DrainSource = 'operator' | 'discovery';

export interface BackendStats {
  requests: number;
  failures: number;
  retries: number;
  ejections: number;
}

/**
 * One backend: its connection pool, its readiness (active checks), its passive health
 * (outlier ejection), its load (peak EWMA, requests in flight) and its slow-start ramp. The
 * pick functions see it through {@link Candidate}.
 */
export class Backend implements Candidate {
  readonly id: string;
  /** The URL's authority (`10.0.0.7:3000`), the backend's name in the admin API. */
  readonly name: string;
  #weight: number;
  readonly pool: Pool;
  readonly ewma: PeakEwma;
  /** What the backend reports of its own load (the kit's `endpoint-load-metrics` header). */
  readonly load: ReportedLoad;
  readonly readiness: ReadinessTracker;
  readonly outlier: OutlierDetector;
  readonly stats: BackendStats = { requests: 0, failures: 0, retries: 0, ejections: 0 };
  /** Finished attempts of the last seconds and minutes, for the dashboard. */
  readonly window = new RequestWindow();
  inFlight = 0;
  readonly #check: ActiveHealthCheck;
  readonly #slowStart: BalancerConfig['slowStart'];
  readonly #onChange: (backend: Backend) => void;
  #removed = false;
  #retired: Promise<void> | undefined;
  #drainedByOperator = false;
  #drainedByDiscovery = false;
  // The next response is the first since the backend (re)joined: not a latency sample.
  #coldResponse = true;
  readonly #fleetLatency: (now: number) => number;

  /**
   * @param fleetLatency what a backend without latency history costs: the fleet's average
   *   estimate (the configured prior while no backend has history)
   */
  constructor(
    spec: BackendSpec,
    config: BalancerConfig,
    onChange: (backend: Backend) => void,
    now: number,
    fleetLatency: (now: number) => number = () => config.ewma.prior,
  ) {
    this.id = spec.url;
    this.name = new URL(spec.url).host;
    this.#weight = spec.weight;
    this.#drainedByDiscovery = spec.draining === true;
    this.#slowStart = config.slowStart;
    this.#onChange = onChange;
    this.#fleetLatency = fleetLatency;
    this.pool = new Pool(spec.url, {
      connections: config.limits.backendConnections,
      keepAliveTimeout: config.timeouts.upstreamIdle,
      keepAliveMaxTimeout: config.timeouts.upstreamIdle,
      connect: { timeout: config.timeouts.connect },
      // Timeouts are set per request from the request's own budget.
      headersTimeout: 0,
      bodyTimeout: 0,
      pipelining: 1,
    });
    this.ewma = new PeakEwma({
      decayMs: config.ewma.decay,
      priorMs: config.ewma.prior,
      failurePenaltyMs: config.ewma.failurePenalty,
    });
    this.load = new ReportedLoad({ weight: config.loadReport.weight, decayMs: config.loadReport.decay });
    this.readiness = new ReadinessTracker(
      { rise: config.healthCheck.rise, fall: config.healthCheck.fall },
      now,
    );
    this.outlier = new OutlierDetector({
      consecutiveFailures: config.outlier.consecutiveFailures,
      baseEjectionMs: config.outlier.baseEjectionTime,
      maxEjectionMs: config.outlier.maxEjectionTime,
    });
    this.#check = new ActiveHealthCheck(
      {
        origin: spec.url,
        path: config.healthCheck.path,
        intervalMs: config.healthCheck.interval,
        timeoutMs: config.healthCheck.timeout,
      },
      (outcome) => this.#observe(outcome),
    );
  }

  /** Starts the active readiness checks (the first one at once). */
  start(): void {
    this.#check.start();
  }

  /**
   * Where the backend stands: its readiness, except that a drain by an operator or discovery
   * shows as `draining` while the backend itself still answers ready or warming.
   */
  get state(): BackendState {
    if (this.#removed) return 'removed';
    const state = this.readiness.state;
    return this.drainedBy !== undefined && (state === 'ready' || state === 'warming') ? 'draining' : state;
  }

  /** Relative share of traffic as discovery gives it (1-1000). */
  get weight(): number {
    return this.#weight;
  }

  /** Who drained the backend on purpose (the operator wins when both did), if anyone. */
  get drainedBy(): DrainSource | undefined {
    if (this.#drainedByOperator) return 'operator';
    return this.#drainedByDiscovery ? 'discovery' : undefined;
  }

  /**
   * Applies what discovery now says about this backend, keeping its connections, latency
   * history and slow-start ramp. Returns whether routing must be recomputed.
   */
  update(spec: BackendSpec): boolean {
    const draining = spec.draining === true;
    const drainChanged = draining !== this.#drainedByDiscovery;
    if (spec.weight === this.#weight && !drainChanged) return false;
    this.#weight = spec.weight;
    this.#drainedByDiscovery = draining;
    // A new weight alone is no state change (the set recomputes routing after applying).
    if (drainChanged) this.#onChange(this);
    return true;
  }

  /**
   * Takes the backend out of rotation (`true`) or puts it back (`false`) on an operator's
   * word; requests in flight finish. Independent of discovery's drain: undraining does not
   * bring back an endpoint Kubernetes is terminating. Returns whether anything changed.
   */
  drain(drained: boolean): boolean {
    if (this.#removed || drained === this.#drainedByOperator) return false;
    this.#drainedByOperator = drained;
    this.#onChange(this);
    return true;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /** Weight now: the configured weight scaled down during slow start. */
  get effectiveWeight(): number {
    const since = this.readiness.becameReadyAt;
    const window = this.#slowStart.window;
    if (since === undefined || window === 0) return this.#weight;
    const factor = slowStartFactor(
      performance.now() - since,
      window,
      this.#slowStart.minPercent,
      this.#slowStart.aggression,
    );
    return this.#weight * factor;
  }

  /** Whether the slow-start ramp is still running. */
  inSlowStart(now: number): boolean {
    const since = this.readiness.becameReadyAt;
    return this.#slowStart.window > 0 && since !== undefined && now - since < this.#slowStart.window;
  }

  /**
   * The peak-EWMA estimate; without history, the fleet's average. A fixed prior would starve a
   * new backend behind fast ones (and flood it in front of slow ones); a first sample would
   * hand it the cost of its cold start for as long as the estimate remembers it.
   */
  latencyMs(now: number): number {
    return this.ewma.observed ? this.ewma.estimate(now) : this.#fleetLatency(now);
  }

  /**
   * A response's time to headers. The first one since the backend (re)joined is not sampled: it
   * pays for a new connection and the backend's cold code paths, and under p2c a backend whose
   * estimate holds such a peak gets no traffic to correct it. A backend slow for real shows it
   * on the next response.
   */
  observeLatency(rttMs: number, now: number): void {
    if (this.#coldResponse) {
      this.#coldResponse = false;
      return;
    }
    this.ewma.observe(rttMs, now);
  }

  loadPenalty(now: number): number {
    return this.load.penalty(now);
  }

  /** May take new requests: ready, not drained on purpose and not ejected. */
  routable(now: number): boolean {
    return (
      !this.#removed &&
      this.readiness.state === 'ready' &&
      !this.#drainedByOperator &&
      !this.#drainedByDiscovery &&
      !this.outlier.isEjected(now)
    );
  }

  /**
   * Taken out of discovery: no new requests; the pool closes once requests in flight finish.
   * Resolves then; {@link retired} is the same promise.
   */
  remove(now: number): Promise<void> {
    if (this.#retired !== undefined) return this.#retired;
    this.#removed = true;
    this.readiness.remove(now);
    this.#retired = this.#retire();
    this.#onChange(this);
    return this.#retired;
  }

  /** Once removed: settles when its last request in flight is done and its pool closed. */
  get retired(): Promise<void> | undefined {
    return this.#retired;
  }

  async #retire(): Promise<void> {
    await this.#check.close();
    await this.pool.close();
  }

  /** Stops checks and cuts every connection (shutdown after the drain, tests). */
  async destroy(): Promise<void> {
    this.#removed = true;
    await this.#check.close();
    await this.pool.destroy();
  }

  #observe(outcome: CheckOutcome): void {
    if (this.#removed) return;
    const before = this.readiness.state;
    const after = this.readiness.observe(outcome, performance.now());
    if (after === before) return;
    // Back from down or draining is most often a new process on the same address: its
    // predecessor's latency says nothing about it (the set seeds it at the fleet's average).
    if (after === 'ready' && (before === 'down' || before === 'draining')) {
      this.ewma.reset();
      this.#coldResponse = true;
    }
    this.#onChange(this);
  }
}
