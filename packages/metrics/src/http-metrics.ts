import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, type Metric } from 'prom-client';
import {
  ABORTED_STATUS,
  type HttpMetricNames,
  METHOD_LABELS,
  methodIndex,
  UNMATCHED_ROUTE,
} from './http-names.ts';
import type { ExemplarSource, RouteResolver } from './options.ts';
import { own } from './registration.ts';
import { RequestCounter, RequestHistogram } from './request-collectors.ts';
import { bucketIndex, RequestSeries } from './request-series.ts';
import { SeriesGuard } from './series-guard.ts';

export interface HttpMetricsSettings {
  readonly names: HttpMetricNames;
  readonly buckets: readonly number[];
  readonly maxSeries: number;
  readonly route: RouteResolver | undefined;
  readonly exemplar: ExemplarSource | undefined;
}

/** The longest trace id kept as an exemplar: OpenMetrics caps an exemplar's label set at 128 characters. */
const MAX_TRACE_ID = 64;

type Tracked = ServerResponse & Record<symbol, number | undefined>;

/**
 * The HTTP server metrics and their per-request hot path. `track()` writes two properties on
 * the response, bumps an array slot and adds one 'close' listener (a function shared by every
 * request, not a closure). When the response closes: one route resolution, a series lookup
 * that allocates nothing in the steady state, and a few additions. Nothing goes through
 * prom-client per request: the counter and histogram read the series at scrape time, and the
 * in-flight gauge reads an array.
 */
export class HttpMetrics {
  readonly requests: RequestCounter;
  readonly duration: RequestHistogram;
  readonly inFlight: Gauge<string>;
  readonly dropped: Counter<string>;
  readonly #guard: SeriesGuard<RequestSeries>;
  readonly #bounds: readonly number[];
  readonly #route: RouteResolver | undefined;
  readonly #exemplar: ExemplarSource | undefined;
  readonly #active = new Float64Array(METHOD_LABELS.length);
  readonly #seen = new Uint8Array(METHOD_LABELS.length);
  // The sum of #active, kept alongside so the load report reads it without a loop.
  #inFlightTotal = 0;
  // Per-instance keys: two instances may track the same response independently.
  readonly #startKey = Symbol('readykit.metrics.start');
  readonly #methodKey = Symbol('readykit.metrics.method');
  readonly #onClose: (this: ServerResponse) => void;
  #warned = false;

  constructor(settings: HttpMetricsSettings) {
    const { names } = settings;
    this.#bounds = settings.buckets;
    this.#route = settings.route;
    this.#exemplar = settings.exemplar;
    const bucketCount = settings.buckets.length;
    const guard = new SeriesGuard(
      names,
      settings.maxSeries,
      (labels) => new RequestSeries(labels, bucketCount),
    );
    this.#guard = guard;
    const labelNames = Object.freeze([names.method, names.route, names.status]);
    this.requests = own(
      new RequestCounter({
        name: names.requests,
        help: 'HTTP requests served.',
        labelNames,
        series: guard.all,
      }),
    );
    this.duration = own(
      new RequestHistogram({
        name: names.duration,
        help: 'Duration of HTTP requests, from the first middleware to the response closing, in seconds.',
        labelNames,
        series: guard.all,
        buckets: settings.buckets,
      }),
    );
    const methodLabels = METHOD_LABELS.map((m) => Object.freeze({ [names.method]: m }));
    const active = this.#active;
    const seen = this.#seen;
    seen[0] = 1; // GET from the first scrape, so in-flight queries never start on an empty result
    this.inFlight = own(
      new Gauge({
        name: names.inFlight,
        help: 'HTTP requests being served.',
        labelNames: [names.method],
        registers: [],
        collect(this: Gauge<string>) {
          for (let i = 0; i < active.length; i++) if (seen[i] === 1) this.set(methodLabels[i]!, active[i]!);
        },
      }),
    );
    let reported = 0;
    this.dropped = own(
      new Counter({
        name: 'readykit_metrics_series_dropped_total',
        help: `Requests recorded under route="overflow" because the HTTP metrics reached maxSeries label sets.`,
        registers: [],
        collect(this: Counter<string>) {
          const delta = guard.dropped - reported;
          if (delta > 0) this.inc(delta);
          reported += delta;
        },
      }),
    );
    const metrics = this;
    this.#onClose = function onClose(this: ServerResponse) {
      metrics.#record(this as Tracked);
    };
  }

  get metrics(): readonly Metric[] {
    return [this.requests, this.duration, this.inFlight, this.dropped] as unknown as Metric[];
  }

  /** Series created so far for real routes (the cardinality guard's count). */
  get series(): number {
    return this.#guard.size;
  }

  /** Requests being served, every method together. */
  get inFlightTotal(): number {
    return this.#inFlightTotal;
  }

  /** Starts measuring a request; call once, before the application handles it. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const r = res as Tracked;
    if (r[this.#startKey] !== undefined) return;
    const method = methodIndex(req.method);
    r[this.#startKey] = performance.now();
    r[this.#methodKey] = method;
    this.#active[method]!++;
    this.#inFlightTotal++;
    this.#seen[method] = 1;
    res.on('close', this.#onClose);
  }

  #record(res: Tracked): void {
    const start = res[this.#startKey];
    // Recorded already ('close' emitted again by hand): -1 marks it, and keeps track() from starting over.
    if (start === undefined || start < 0) return;
    res[this.#startKey] = -1;
    const method = res[this.#methodKey]!;
    this.#active[method]!--;
    this.#inFlightTotal--;
    const seconds = (performance.now() - start) / 1000;
    // 'close' without 'finish': the client hung up or the socket died before the response was complete.
    const status = res.writableFinished ? res.statusCode : ABORTED_STATUS;
    const series = this.#guard.series(this.#routeOf(res), method, status);
    const bucket = bucketIndex(this.#bounds, seconds);
    series.observe(seconds, bucket);
    if (this.#exemplar !== undefined) {
      const traceId = this.#traceIdOf(res);
      if (traceId !== undefined) series.setExemplar(bucket, traceId, seconds);
    }
  }

  #routeOf(res: Tracked): string {
    if (this.#route === undefined) return UNMATCHED_ROUTE;
    try {
      const route = this.#route(res.req, res);
      return typeof route === 'string' && route !== '' ? route : UNMATCHED_ROUTE;
    } catch (error) {
      this.#warn(`options.route threw: ${String(error)}`);
      return UNMATCHED_ROUTE;
    }
  }

  #traceIdOf(res: Tracked): string | undefined {
    try {
      const id = this.#exemplar!(res.req, res);
      return typeof id === 'string' && id.length > 0 && id.length <= MAX_TRACE_ID ? id : undefined;
    } catch (error) {
      this.#warn(`options.exemplar threw: ${String(error)}`);
      return undefined;
    }
  }

  /** One warning per instance: a broken resolver must not flood the log at request rate. */
  #warn(message: string): void {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(`readykit metrics: ${message}`, 'ReadykitWarning');
  }
}
