import { DEFAULT_BUCKETS } from '@readykit/metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Backend } from '../backend.ts';
import type { BackendSet } from '../backend-set.ts';
import { BACKEND_STATES } from '../health/backend-state.ts';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const ERROR_CLASS = 'error';

/** One set of backends the metrics report on: the proxy's, or one dispatcher's upstream. */
export interface MetricsSource {
  /** The `upstream` label of its series; only with {@link BalancerMetrics.shared}. */
  readonly upstream?: string;
  readonly backends: BackendSet;
  /** Retries the budget refused so far. */
  readonly retryBudgetExhausted: () => number;
  /** Responses read during a stall of this process's loop, so not taken as latency samples. */
  readonly latencySamplesSkipped: () => number;
  /** Requests in flight through this front end. */
  readonly inFlight: () => number;
}

/** Pre-bound children of one backend, so a request costs no label lookup. */
interface BackendSeries {
  readonly requests: Counter.Internal[];
  readonly error: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
  readonly retries: Counter.Internal;
}

type Labels = Record<string, string>;

const sharedByRegistry = new WeakMap<Registry, BalancerMetrics>();

/**
 * The balancer's metrics (names in the README), registered into a registry that
 * `@readykit/metrics` serves: the proxy's admin listener, or a service's own `/metrics` for its
 * balanced dispatchers. Gauges are read from the backend sets at scrape time; counters and the
 * histogram are fed per request through children bound once per backend. The dispatchers of
 * one registry share one instance ({@link BalancerMetrics.shared}) and label every series with
 * their `upstream`.
 */
export class BalancerMetrics {
  readonly #sources: MetricsSource[] = [];
  readonly #upstreamLabel: boolean;
  readonly #requests: Counter<string>;
  readonly #duration: Histogram<string>;
  readonly #retries: Counter<string>;
  readonly #refused: Counter<string>;

  /** The instance every dispatcher reporting into `registry` shares (series labelled `upstream`). */
  static shared(registry: Registry): BalancerMetrics {
    let metrics = sharedByRegistry.get(registry);
    if (metrics === undefined) {
      metrics = new BalancerMetrics(registry, { upstreamLabel: true });
      sharedByRegistry.set(registry, metrics);
    }
    return metrics;
  }

  constructor(registry: Registry, options: { upstreamLabel?: boolean } = {}) {
    const registers = [registry];
    const upstream = options.upstreamLabel === true;
    this.#upstreamLabel = upstream;
    const withUpstream = (names: string[]): string[] => (upstream ? ['upstream', ...names] : names);
    const sources = this.#sources;
    this.#requests = new Counter({
      name: 'readykit_balancer_requests_total',
      help: 'Responses from each backend by status class; code_class="error" when the attempt failed without a response.',
      labelNames: withUpstream(['backend', 'code_class']),
      registers,
    });
    this.#duration = new Histogram({
      name: 'readykit_balancer_request_duration_seconds',
      help: 'Time from sending a request to a backend to the end of its response, in seconds.',
      labelNames: withUpstream(['backend']),
      buckets: [...DEFAULT_BUCKETS],
      registers,
    });
    this.#retries = new Counter({
      name: 'readykit_balancer_retries_total',
      help: 'Requests retried on another backend after this backend failed them.',
      labelNames: withUpstream(['backend']),
      registers,
    });
    const upstreamOnly = withUpstream([]);
    const sourceLabels = (source: MetricsSource): Labels =>
      upstream ? { upstream: source.upstream ?? '' } : {};
    // A counter each source keeps itself, read at scrape time (one series per source).
    const sourceCounter = (name: string, help: string, read: (source: MetricsSource) => number): void => {
      new Counter({
        name,
        help,
        labelNames: upstreamOnly,
        registers,
        collect(this: Counter<string>) {
          this.reset();
          for (const source of sources) this.inc(sourceLabels(source), read(source));
        },
      });
    };
    sourceCounter(
      'readykit_balancer_retry_budget_exhausted_total',
      'Retries refused because the retry budget was spent.',
      (source) => source.retryBudgetExhausted(),
    );
    sourceCounter(
      'readykit_balancer_latency_samples_skipped_total',
      "Responses not taken as latency samples because this process's own event loop was stalled when they were read (a GC pause, a long task); climbing steadily, the balancer itself is saturated.",
      (source) => source.latencySamplesSkipped(),
    );
    this.#refused = new Counter({
      name: 'readykit_balancer_errors_total',
      help: 'Requests the balancer answered itself (or failed for the caller), by error code (no backend, backend failed, deadline, refused).',
      labelNames: withUpstream(['code']),
      registers,
    });
    new Gauge({
      name: 'readykit_balancer_in_flight',
      help: 'Requests being proxied (or dispatched) now.',
      labelNames: upstreamOnly,
      registers,
      collect(this: Gauge<string>) {
        this.reset(); // a closed source's series goes with it
        for (const source of sources) this.set(sourceLabels(source), source.inFlight());
      },
    });
    new Gauge({
      name: 'readykit_balancer_panic',
      help: '1 while too few backends are healthy and every answering backend gets traffic (panic mode).',
      labelNames: upstreamOnly,
      registers,
      collect(this: Gauge<string>) {
        this.reset();
        const now = performance.now();
        for (const source of sources) {
          // The verdict is made when candidates are rebuilt; without traffic nothing rebuilds them.
          source.backends.candidates(now);
          this.set(sourceLabels(source), source.backends.panic ? 1 : 0);
        }
      },
    });
    const perBackend = (name: string, help: string, read: (b: Backend, now: number) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: withUpstream(['backend']),
        registers,
        collect(this: Gauge<string>) {
          this.reset();
          const now = performance.now();
          for (const source of sources) {
            for (const b of source.backends.all())
              this.set({ ...sourceLabels(source), backend: b.id }, read(b, now));
          }
        },
      });
    };
    perBackend(
      'readykit_balancer_backend_in_flight',
      'Requests sent to the backend and not finished.',
      (b) => b.inFlight,
    );
    perBackend(
      'readykit_balancer_backend_latency_ewma_seconds',
      'Peak-EWMA latency estimate the balancer uses, in seconds.',
      (b, now) => b.latencyMs(now) / 1000,
    );
    perBackend(
      'readykit_balancer_backend_weight',
      'Effective weight: the configured weight scaled by slow start.',
      (b) => b.effectiveWeight,
    );
    perBackend(
      'readykit_balancer_backend_ejected',
      '1 while passive health checks eject the backend.',
      (b, now) => (b.outlier.isEjected(now) ? 1 : 0),
    );
    perBackend(
      'readykit_balancer_backend_reported_utilization',
      'The utilization the backend last reported in its endpoint-load-metrics header, faded with age (0 without reports).',
      (b, now) => b.load.utilization(now),
    );
    new Counter({
      name: 'readykit_balancer_backend_ejections_total',
      help: 'Times passive health checks ejected the backend.',
      labelNames: withUpstream(['backend']),
      registers,
      collect(this: Counter<string>) {
        this.reset();
        for (const source of sources) {
          for (const b of source.backends.all())
            this.inc({ ...sourceLabels(source), backend: b.id }, b.stats.ejections);
        }
      },
    });
    new Gauge({
      name: 'readykit_balancer_backend_state',
      help: '1 for the state each backend is in (warming, ready, draining, down), 0 for the others.',
      labelNames: withUpstream(['backend', 'state']),
      registers,
      collect(this: Gauge<string>) {
        this.reset();
        for (const source of sources) {
          for (const backend of source.backends.all()) {
            for (const state of BACKEND_STATES) {
              if (state !== 'removed')
                this.set(
                  { ...sourceLabels(source), backend: backend.id, state },
                  backend.state === state ? 1 : 0,
                );
            }
          }
        }
      },
    });
  }

  /**
   * Reports on `source` from now on. What its requests record goes through the returned
   * {@link SourceMetrics}; its `close()` stops reporting and drops the source's series.
   */
  addSource(source: MetricsSource): SourceMetrics {
    const backends = source.backends;
    const series = new Map<string, BackendSeries>();
    const labelsOf = (id: string): Labels =>
      this.#upstreamLabel ? { upstream: source.upstream ?? '', backend: id } : { backend: id };
    const forget = (id: string): void => {
      const labels = labelsOf(id);
      for (const code of [...STATUS_CLASSES, ERROR_CLASS])
        this.#requests.remove({ ...labels, code_class: code });
      this.#duration.remove(labels);
      this.#retries.remove(labels);
      series.delete(id);
    };
    const seriesOf = (backend: Backend): BackendSeries => {
      let found = series.get(backend.id);
      if (found === undefined) {
        const labels = labelsOf(backend.id);
        found = {
          requests: STATUS_CLASSES.map((code) => this.#requests.labels({ ...labels, code_class: code })),
          error: this.#requests.labels({ ...labels, code_class: ERROR_CLASS }),
          duration: this.#duration.labels(labels),
          retries: this.#retries.labels(labels),
        };
        series.set(backend.id, found);
      }
      return found;
    };
    this.#sources.push(source);
    // Under discovery churn (pods come and go) series of departed backends would pile up forever.
    const unsubscribe = backends.onChange((backend) => {
      if (backend.state !== 'removed') return;
      const retired = (): void => {
        // Unless the same URL came back meanwhile (a pod IP reused): the series is its now.
        if (backends.find(backend.id) === undefined) forget(backend.id);
      };
      void backend.retired?.then(retired, retired);
    });
    const refusedCodes = new Set<string>();
    const refusedLabels = (code: string): Labels =>
      this.#upstreamLabel ? { upstream: source.upstream ?? '', code } : { code };
    return {
      observe(backend, status, durationMs) {
        const s = seriesOf(backend);
        if (status === 0) s.error.inc();
        else s.requests[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!.inc();
        s.duration.observe(durationMs / 1000);
      },
      retried(backend) {
        seriesOf(backend).retries.inc();
      },
      answered: (code) => {
        refusedCodes.add(code);
        this.#refused.inc(refusedLabels(code));
      },
      close: () => {
        unsubscribe();
        const at = this.#sources.indexOf(source);
        if (at >= 0) this.#sources.splice(at, 1);
        for (const id of [...series.keys()]) forget(id);
        for (const code of refusedCodes) this.#refused.remove(refusedLabels(code));
      },
    };
  }
}

/** What the requests of one {@link MetricsSource} record. */
export interface SourceMetrics {
  /** One finished attempt; `status` 0 when it failed without a response. */
  observe(backend: Backend, status: number, durationMs: number): void;
  retried(backend: Backend): void;
  /** A request the balancer answered itself (the proxy) or failed for its caller (a dispatcher). */
  answered(code: string): void;
  /** Stops reporting on the source and drops its series. */
  close(): void;
}
