import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Health } from '@readykit/health';
import { type Metric, Registry } from 'prom-client';
import { ErrorCodes, ReadykitError } from './errors.ts';
import { CONTENT_TYPES, type ExpositionFormat, negotiateFormat } from './exposition.ts';
import { HealthMetrics } from './health-metrics.ts';
import { HttpMetrics } from './http-metrics.ts';
import { CLASSIC_NAMES, type HttpMetricNames, SEMCONV_NAMES } from './http-names.ts';
import { LOAD_REPORT_HEADER } from './load-report.ts';
import { LoadReporter } from './load-reporter.ts';
import { matchesPath, writeBody, writePlain } from './metrics-http.ts';
import { type MetricsOptions, type ResolvedMetricsOptions, resolveMetricsOptions } from './options.ts';
import { register, registerAll } from './registration.ts';
import { RuntimeMetrics } from './runtime-metrics.ts';
import { type ScrapeOptions, scrapeRegistry, scrapeRegistryBuffer } from './scrape.ts';

/**
 * Prometheus metrics for one service instance with no web framework: call `track()` once per
 * request before the application, answer scrapes with `handle()`, and follow a
 * `@readykit/health` instance with `observeHealth()`. Built on prom-client, in a registry of
 * its own unless one is given; constructing it twice never fails with "already registered".
 */
export class Metrics {
  readonly options: ResolvedMetricsOptions;
  /** The registry served by `handle()`: `options.registry`, or a private one. */
  readonly registry: Registry;
  /** Metric and label names of the HTTP metrics (classic, or OpenTelemetry's with `semconv`). */
  readonly names: HttpMetricNames;
  readonly #http: HttpMetrics;
  readonly #runtime: RuntimeMetrics | undefined;
  readonly #loadReport: LoadReporter | undefined;
  #health: HealthMetrics | undefined;
  #closed = false;

  constructor(options: MetricsOptions = {}) {
    this.options = resolveMetricsOptions(options);
    this.registry = this.options.registry ?? new Registry();
    this.names = this.options.semconv ? SEMCONV_NAMES : CLASSIC_NAMES;
    this.#http = new HttpMetrics({
      names: this.names,
      buckets: this.options.buckets,
      maxSeries: this.options.maxSeries,
      route: this.options.route,
      exemplar: this.options.exemplar,
    });
    this.#register(this.#http.metrics);
    if (this.options.health !== undefined) this.observeHealth(this.options.health);
    if (this.options.runtime !== false) {
      this.#runtime = new RuntimeMetrics(this.options.runtime);
      for (const metric of this.#runtime.metrics) register(this.registry, metric, 'skip');
    }
    if (this.options.loadReport !== false) {
      this.#loadReport = new LoadReporter(this.options.loadReport);
      this.#loadReport.start();
    }
  }

  /** Label sets the HTTP metrics hold so far, as counted by the cardinality guard. */
  get series(): number {
    return this.#http.series;
  }

  /**
   * Starts measuring a request: call once per request, before the application handles it.
   * In-flight goes up now; when the response closes (finished or aborted) it goes down and
   * the request is counted and timed under `options.route(req, res)`. With `loadReport` on
   * (and until `close()`), the response gets the `endpoint-load-metrics` header now, counting
   * this request in flight. Cheap: see README.
   */
  track(req: IncomingMessage, res: ServerResponse): void {
    this.#http.track(req, res);
    const load = this.#loadReport;
    if (load !== undefined && !load.closed && !res.headersSent) {
      res.setHeader(LOAD_REPORT_HEADER, load.headerValue(this.#http.inFlightTotal));
    }
  }

  /** Requests being tracked now, every method together (what the load report sends as in-flight). */
  get inFlight(): number {
    return this.#http.inFlightTotal;
  }

  /**
   * Answers a scrape (`GET|HEAD` on `options.path`, any query) and returns true; returns
   * false, touching nothing, for every other request. Other methods get 405. Prometheus text
   * 0.0.4 unless `Accept` prefers OpenMetrics 1.0; a collector that throws answers 500.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (!matchesPath(req.url ?? '/', this.options.path)) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      writePlain(res, 405, 'method not allowed\n', false);
      return true;
    }
    const format = negotiateFormat(req.headers.accept);
    scrapeRegistryBuffer(this.registry, format).then(
      (body) => writeBody(res, 200, CONTENT_TYPES[format], body, head),
      (error: unknown) => {
        process.emitWarning(`readykit metrics: collection failed: ${messageOf(error)}`, 'ReadykitWarning');
        writePlain(res, 500, 'metrics collection failed\n', head);
      },
    );
    return true;
  }

  /** The exposition text of the registry in `format`, e.g. for a management port or a push. */
  scrape(format: ExpositionFormat = 'prometheus', options?: ScrapeOptions): Promise<string> {
    return scrapeRegistry(this.registry, format, options);
  }

  /**
   * Exports the lifecycle of a `@readykit/health` instance: readiness, lifecycle state, gates,
   * check durations and failures. A later call follows the new instance instead.
   */
  observeHealth(health: Health): this {
    if (this.#closed)
      throw new ReadykitError(ErrorCodes.LIFECYCLE, 'cannot observe a Health instance once closed');
    if (this.#health === undefined) {
      const metrics = new HealthMetrics();
      this.#register(metrics.metrics);
      this.#health = metrics;
    }
    this.#health.observe(health);
    return this;
  }

  /**
   * Stops background work: the event loop utilization timers and the Health listener. Metrics
   * stay registered and `track()`/`handle()` keep working, so requests still in flight during
   * shutdown are counted and a last scrape still answers; the load report header is no longer
   * added (its utilization would go stale). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#runtime?.stop();
    this.#loadReport?.close();
    this.#health?.stop();
  }

  #register(metrics: readonly Metric[]): void {
    registerAll(this.registry, metrics);
  }
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.slice(0, 200);
}

/** Creates a {@link Metrics} instance; see {@link MetricsOptions}. */
export function createMetrics(options?: MetricsOptions): Metrics {
  return new Metrics(options);
}
