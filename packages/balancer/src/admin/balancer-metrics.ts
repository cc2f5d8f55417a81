import { DEFAULT_BUCKETS } from '@readykit/metrics';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Backend } from '../backend.ts';
import type { BackendSet } from '../backend-set.ts';
import { BACKEND_STATES } from '../health/backend-state.ts';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const ERROR_CLASS = 'error';

/** Pre-bound children of one backend, so a request costs no label lookup. */
interface BackendSeries {
  readonly requests: Counter.Internal[];
  readonly error: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
}

/**
 * The balancer's own metrics (names in the README), registered into the registry that
 * `@readykit/metrics` serves on the admin listener next to the runtime and lifecycle ones.
 * Gauges are read from the backend set at scrape time; counters and the histogram are fed per
 * request through children bound once per backend.
 */
export class BalancerMetrics {
  readonly #requests: Counter<'backend' | 'code_class'>;
  readonly #duration: Histogram<'backend'>;
  readonly #retries: Counter<'backend'>;
  readonly #refused: Counter<'code'>;
  readonly #series = new Map<string, BackendSeries>();

  constructor(
    registry: Registry,
    backends: BackendSet,
    retryBudgetExhausted: () => number,
    inFlight: () => number,
  ) {
    const registers = [registry];
    // Under discovery churn (pods come and go) series of departed backends would pile up forever.
    backends.onChange((backend) => {
      if (backend.state !== 'removed') return;
      const forget = (): void => {
        // Unless the same URL came back meanwhile (a pod IP reused): the series is its now.
        if (backends.find(backend.id) === undefined) this.#forget(backend.id);
      };
      void backend.retired?.then(forget, forget);
    });
    this.#requests = new Counter({
      name: 'readykit_balancer_requests_total',
      help: 'Responses from each backend by status class; code_class="error" when the attempt failed without a response.',
      labelNames: ['backend', 'code_class'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'readykit_balancer_request_duration_seconds',
      help: 'Time from sending a request to a backend to the end of its response, in seconds.',
      labelNames: ['backend'],
      buckets: [...DEFAULT_BUCKETS],
      registers,
    });
    this.#retries = new Counter({
      name: 'readykit_balancer_retries_total',
      help: 'Requests retried on another backend after this backend failed them.',
      labelNames: ['backend'],
      registers,
    });
    new Counter({
      name: 'readykit_balancer_retry_budget_exhausted_total',
      help: 'Retries refused because the retry budget was spent.',
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(retryBudgetExhausted());
      },
    });
    this.#refused = new Counter({
      name: 'readykit_balancer_errors_total',
      help: 'Requests the balancer answered itself, by error code (no backend, backend failed, deadline, refused).',
      labelNames: ['code'],
      registers,
    });
    new Gauge({
      name: 'readykit_balancer_in_flight',
      help: 'Client requests being proxied now.',
      registers,
      collect(this: Gauge) {
        this.set(inFlight());
      },
    });
    new Gauge({
      name: 'readykit_balancer_panic',
      help: '1 while too few backends are healthy and every answering backend gets traffic (panic mode).',
      registers,
      collect(this: Gauge) {
        // The verdict is made when candidates are rebuilt; without traffic nothing rebuilds them.
        backends.candidates(performance.now());
        this.set(backends.panic ? 1 : 0);
      },
    });
    perBackendGauge(
      registry,
      'readykit_balancer_backend_in_flight',
      'Requests sent to the backend and not finished.',
      backends,
      (b) => b.inFlight,
    );
    perBackendGauge(
      registry,
      'readykit_balancer_backend_latency_ewma_seconds',
      'Peak-EWMA latency estimate the balancer uses, in seconds.',
      backends,
      (b, now) => b.latencyMs(now) / 1000,
    );
    perBackendGauge(
      registry,
      'readykit_balancer_backend_weight',
      'Effective weight: the configured weight scaled by slow start.',
      backends,
      (b) => b.effectiveWeight,
    );
    perBackendGauge(
      registry,
      'readykit_balancer_backend_ejected',
      '1 while passive health checks eject the backend.',
      backends,
      (b, now) => (b.outlier.isEjected(now) ? 1 : 0),
    );
    perBackendCounter(
      registry,
      'readykit_balancer_backend_ejections_total',
      'Times passive health checks ejected the backend.',
      backends,
      (b) => b.stats.ejections,
    );
    new Gauge({
      name: 'readykit_balancer_backend_state',
      help: '1 for the state each backend is in (warming, ready, draining, down), 0 for the others.',
      labelNames: ['backend', 'state'],
      registers,
      collect(this: Gauge<'backend' | 'state'>) {
        this.reset();
        for (const backend of backends.all()) {
          for (const state of BACKEND_STATES) {
            if (state !== 'removed')
              this.set({ backend: backend.id, state }, backend.state === state ? 1 : 0);
          }
        }
      },
    });
  }

  /** One finished attempt; `status` 0 when it failed without a response. */
  observe(backend: Backend, status: number, durationMs: number): void {
    const series = this.#seriesOf(backend);
    if (status === 0) series.error.inc();
    else series.requests[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!.inc();
    series.duration.observe(durationMs / 1000);
  }

  retried(backend: Backend): void {
    this.#retries.labels(backend.id).inc();
  }

  /** A request the balancer answered itself. */
  answered(code: string): void {
    this.#refused.labels(code).inc();
  }

  /** Drops every series of a backend gone from discovery once its last request finished. */
  #forget(id: string): void {
    for (const code of [...STATUS_CLASSES, ERROR_CLASS]) this.#requests.remove(id, code);
    this.#duration.remove(id);
    this.#retries.remove(id);
    this.#series.delete(id);
  }

  #seriesOf(backend: Backend): BackendSeries {
    let series = this.#series.get(backend.id);
    if (series === undefined) {
      series = {
        requests: STATUS_CLASSES.map((code) => this.#requests.labels(backend.id, code)),
        error: this.#requests.labels(backend.id, ERROR_CLASS),
        duration: this.#duration.labels(backend.id),
      };
      this.#series.set(backend.id, series);
    }
    return series;
  }
}

function perBackendGauge(
  registry: Registry,
  name: string,
  help: string,
  backends: BackendSet,
  read: (backend: Backend, now: number) => number,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['backend'],
    registers: [registry],
    collect(this: Gauge<'backend'>) {
      this.reset();
      const now = performance.now();
      for (const backend of backends.all()) this.set({ backend: backend.id }, read(backend, now));
    },
  });
}

function perBackendCounter(
  registry: Registry,
  name: string,
  help: string,
  backends: BackendSet,
  read: (backend: Backend) => number,
): void {
  new Counter({
    name,
    help,
    labelNames: ['backend'],
    registers: [registry],
    collect(this: Counter<'backend'>) {
      this.reset();
      for (const backend of backends.all()) this.inc({ backend: backend.id }, read(backend));
    },
  });
}
