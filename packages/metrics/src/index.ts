export { ErrorCodes, type MetricsErrorCode, ReadykitError } from './errors.ts';
export { type EluSample, utilizationBetween } from './event-loop-utilization.ts';
export {
  CONTENT_TYPES,
  type ExpositionFormat,
  encode,
  type MetricSnapshot,
  negotiateFormat,
  type SampleSnapshot,
} from './exposition.ts';
export {
  ABORTED_STATUS,
  CLASSIC_NAMES,
  HTTP_METHODS,
  type HttpMetricNames,
  OTHER_METHOD,
  OVERFLOW_ROUTE,
  SEMCONV_NAMES,
  UNMATCHED_ROUTE,
} from './http-names.ts';
export { createMetrics, Metrics } from './metrics.ts';
export {
  CHECK_DURATION_BUCKETS,
  DEFAULT_BUCKETS,
  DEFAULT_ELU_INTERVAL,
  DEFAULT_ELU_WINDOW,
  DEFAULT_MAX_SERIES,
  DEFAULT_METRICS_PATH,
  type EventLoopUtilizationOptions,
  type ExemplarSource,
  type MetricsOptions,
  type ResolvedMetricsOptions,
  type RouteResolver,
  type RuntimeOptions,
} from './options.ts';
export { type ScrapeOptions, scrapeRegistry, scrapeRegistryBuffer } from './scrape.ts';
