import type { SourceMetrics } from './admin/balancer-metrics.ts';
import { RequestWindow } from './admin/request-window.ts';
import type { Backend } from './backend.ts';
import type { BackendSet } from './backend-set.ts';
import type { Balance, PickInput } from './balance/candidate.ts';
import { LoopStallWatch } from './load/loop-stall-watch.ts';
import type { BalancerConfig } from './options.ts';
import { RetryBudget } from './proxy/retry-budget.ts';

/**
 * The backends of one upstream service and everything shared by the requests sent to them:
 * the balancing algorithm, the retry budget, the metrics and the dashboard's window. Both
 * front ends hold one: the proxy ({@link ProxyEngine}) and the client-side dispatcher
 * ({@link BalancedDispatcher}); each request's attempts go through an {@link AttemptLoop}.
 */
export class Cluster {
  readonly config: BalancerConfig;
  readonly backends: BackendSet;
  readonly retryBudget: RetryBudget;
  readonly metrics: SourceMetrics;
  /** Finished attempts on every backend, for the dashboard's totals. */
  readonly window = new RequestWindow();
  /** Whether this process's loop is stalled: responses read during a stall are no latency samples. */
  readonly loop: LoopStallWatch;
  /**
   * Responses not taken as latency samples because they were read during a stall of this
   * process. Climbing steadily, it says the process itself is saturated: the estimates then
   * only decay, and p2c-ewma works from in-flight counts alone.
   */
  latencySamplesSkipped = 0;
  #balance: Balance;
  #running = false;
  readonly #pickInput: {
    rng: () => number;
    now: number;
    hashKey: string | undefined;
    excluded: ReadonlySet<string> | undefined;
  };

  constructor(
    config: BalancerConfig,
    backends: BackendSet,
    balance: Balance,
    metrics: SourceMetrics,
    rng: () => number,
    loop: LoopStallWatch = LoopStallWatch.shared(),
  ) {
    this.config = config;
    this.loop = loop;
    this.backends = backends;
    this.#balance = balance;
    this.metrics = metrics;
    this.retryBudget = new RetryBudget({
      ratio: config.retry.budgetRatio,
      minPerSecond: config.retry.minPerSecond,
    });
    this.#pickInput = { rng, now: 0, hashKey: undefined, excluded: undefined };
  }

  /** Starts the backends' active checks and the loop-stall watch. */
  start(): void {
    if (!this.#running) this.loop.acquire();
    this.#running = true;
    this.backends.start();
  }

  /** Stops what {@link start} started and closes the backends' connections. */
  close(): Promise<void> {
    if (this.#running) this.loop.release();
    this.#running = false;
    return this.backends.close();
  }

  /** The algorithm in use. */
  get balance(): Balance {
    return this.#balance;
  }

  /** Switches the algorithm: the next pick uses it; requests in flight keep their backend. */
  setBalance(balance: Balance): void {
    this.#balance = balance;
  }

  /** Picks a backend among the current candidates, minus `excluded`. */
  pick(
    hashKey: string | undefined,
    now: number,
    excluded: ReadonlySet<string> | undefined,
  ): Backend | undefined {
    const input = this.#pickInput;
    input.now = now;
    input.excluded = excluded;
    input.hashKey = hashKey;
    return this.#balance.pick(this.backends.candidates(now), input as PickInput) as Backend | undefined;
  }

  /** Withdraws one retry from the budget; false (and counted) when it is spent. */
  tryRetry(now: number): boolean {
    return this.retryBudget.tryRetry(now);
  }

  /** One finished attempt on a backend, ended at `now` (the caller's clock read). */
  observe(backend: Backend, status: number, durationMs: number, now: number): void {
    this.metrics.observe(backend, status, durationMs);
    backend.window.record(status, durationMs, now);
    this.window.record(status, durationMs, now);
  }
}
