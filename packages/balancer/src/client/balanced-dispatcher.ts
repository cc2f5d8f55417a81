import { Dispatcher, Dispatcher1Wrapper, getGlobalDispatcher } from 'undici';
import { BalancerMetrics, type SourceMetrics } from '../admin/balancer-metrics.ts';
import { AttemptLoop } from '../attempt-loop.ts';
import { BackendSet } from '../backend-set.ts';
import { createBalance } from '../balance/create-balance.ts';
import { Cluster } from '../cluster.ts';
import type { Discovery } from '../discover/discovery.ts';
import { StaticDiscovery } from '../discover/static-discovery.ts';
import { isRetryableRequest } from '../proxy/retry-policy.ts';
import { BalancedCall, type CallOwner } from './balanced-call.ts';
import { readCallHeaders } from './dispatch-headers.ts';
import {
  type BalancedDispatcherOptions,
  type ResolvedDispatcherOptions,
  resolveDispatcherOptions,
} from './dispatcher-options.ts';

// undici 8 adapts old-API handlers with this static, missing from its type declarations; a test
// with Node's own fetch keeps it honest.
const wrapLegacyHandler = (
  Dispatcher1Wrapper as unknown as {
    wrapHandler(handler: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler;
  }
).wrapHandler;

const NO_METRICS: SourceMetrics = { observe() {}, retried() {}, answered() {}, close() {} };

/**
 * Client-side balancing as an undici `Dispatcher`: `fetch(url, { dispatcher })`, undici's
 * `request`, or the global dispatcher. Calls to the logical origin go, one by one, to the backend
 * the balancer's layers choose (discovery, active readiness checks with drain on 503, passive
 * ejection, slow start, P2C peak-EWMA with the backends' own load reports, retries within a
 * budget): the same implementation as the proxy, without the extra hop. Calls to other origins
 * go to the fallback dispatcher.
 *
 * Trace, request-id and deadline headers are added by `@readykit/tracing` as for any undici
 * call (each attempt is a new span).
 */
export class BalancedDispatcher extends Dispatcher implements CallOwner {
  readonly origin: string;
  /** The `upstream` label of the metrics. */
  readonly name: string;
  readonly cluster: Cluster;
  readonly #options: ResolvedDispatcherOptions;
  readonly #discovery: Discovery;
  readonly #fallback: Dispatcher;
  readonly #metrics: SourceMetrics;
  readonly #unsubscribe: () => void;
  #inFlight = 0;
  #idle: Array<() => void> = [];
  #closed: Promise<void> | undefined;

  constructor(options: BalancedDispatcherOptions) {
    super();
    const resolved = resolveDispatcherOptions(options);
    this.#options = resolved;
    this.origin = resolved.origin;
    this.name = resolved.name;
    const { config } = resolved;
    this.#fallback = options.fallback ?? getGlobalDispatcher();
    this.#discovery = resolved.discovery ?? new StaticDiscovery(config.backends);
    const backends = new BackendSet(config);
    const log = options.log;
    if (log !== undefined) backends.onChange((b) => log(`${this.name}: backend ${b.id} ${b.state}`));
    this.#metrics =
      options.registry === undefined
        ? NO_METRICS
        : BalancerMetrics.shared(options.registry).addSource({
            upstream: this.name,
            backends,
            retryBudgetExhausted: () => this.cluster.retryBudget.exhausted,
            latencySamplesSkipped: () => this.cluster.latencySamplesSkipped,
            inFlight: () => this.#inFlight,
          });
    this.cluster = new Cluster(
      config,
      backends,
      createBalance(config.algorithm, { tableSize: config.maglevTableSize }),
      this.#metrics,
      options.rng ?? Math.random,
    );
    this.#unsubscribe = this.#discovery.subscribe((set) => backends.apply(set));
    this.cluster.start();
  }

  /** Calls in progress. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Resolves once at least one backend takes calls (its first readiness check passed), or
   * rejects after `timeoutMs`. Calls made before fail fast with `RK_ERR_NO_BACKEND`.
   */
  ready(timeoutMs = 5000): Promise<void> {
    const backends = this.cluster.backends;
    if (backends.readyCount(performance.now()) > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no backend of ${this.origin} became ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = backends.onChange(() => {
        if (backends.readyCount(performance.now()) === 0) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }

  override dispatch(options: Dispatcher.DispatchOptions, callerHandler: Dispatcher.DispatchHandler): boolean {
    // Node's own fetch (undici 7) still hands dispatchers handlers of the older API.
    const handler = wrapLegacyHandler(callerHandler);
    if (this.#closed !== undefined || !this.#ours(options.origin))
      return this.#fallback.dispatch(options, handler);
    const method = options.method;
    const body = options.body;
    // A body given whole can be sent again; a stream cannot.
    const replayable = body == null || typeof body === 'string' || body instanceof Uint8Array;
    const config = this.cluster.config;
    const hashHeader = this.cluster.balance.name === 'maglev' ? config.hashHeader : undefined;
    const headers = readCallHeaders(options.headers, hashHeader);
    const retryable = replayable && isRetryableRequest(method, headers.hasIdempotencyKey);
    if (!headers.hasHost) headers.flat.push('host', this.#options.host);
    const attempt: Dispatcher.DispatchOptions = {
      ...options,
      headers: headers.flat,
      headersTimeout: options.headersTimeout ?? config.timeouts.firstByte,
    };
    const attempts = new AttemptLoop(this.cluster, retryable, replayable, headers.hashKey);
    this.#inFlight++;
    new BalancedCall(this, attempts, attempt, handler).send();
    return true;
  }

  callEnded(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idle.length > 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  callFailed(code: string): void {
    this.#metrics.answered(code);
  }

  /**
   * Stops discovery and checks; calls in progress finish, later ones go to the fallback.
   * Resolves when the last connection is closed.
   */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
      await this.#shutdown();
    })();
    if (callback === undefined) return this.#closed;
    void this.#closed.then(callback, callback);
  }

  /** Stops at once: calls in progress fail. */
  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    const done = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    this.#closed ??= this.#shutdown();
    if (done === undefined) return this.#closed;
    void this.#closed.then(done, done);
  }

  async #shutdown(): Promise<void> {
    this.#unsubscribe();
    this.#metrics.close();
    await Promise.all([this.#discovery.close(), this.cluster.close()]);
  }

  #ours(origin: Dispatcher.DispatchOptions['origin']): boolean {
    if (origin === undefined) return true;
    if (typeof origin === 'string')
      return origin === this.origin || URL.parse(origin)?.origin === this.origin;
    return origin.origin === this.origin;
  }
}

/** `new BalancedDispatcher(options)`; see {@link BalancedDispatcherOptions}. */
export function createBalancedDispatcher(options: BalancedDispatcherOptions): BalancedDispatcher {
  return new BalancedDispatcher(options);
}
