export {
  CLUSTER_EXPECTED_METRIC,
  CLUSTER_RESPONDING_METRIC,
  CLUSTER_SCRAPE_REQUEST,
  CLUSTER_SCRAPE_RESPONSE,
  type ClusterAggregator,
  type ClusterAggregatorOptions,
  type ClusterChannel,
  type ClusterPrimary,
  createClusterAggregator,
  DEFAULT_CLUSTER_AGGREGATORS,
  DEFAULT_CLUSTER_TIMEOUT,
  type RegistrySource,
  serveClusterScrapes,
} from './cluster-metrics.ts';
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
export { formatLoadReport, LOAD_REPORT_HEADER, type LoadReport, parseLoadReport } from './load-report.ts';
export { LoadReporter, type LoadReporterSettings } from './load-reporter.ts';
export {
  DEFAULT_CLOSE_GRACE,
  DEFAULT_MANAGEMENT_HOST,
  type ManagementHandler,
  ManagementServer,
  type ManagementServerOptions,
} from './management-server.ts';
export { createMetrics, Metrics } from './metrics.ts';
export {
  CHECK_DURATION_BUCKETS,
  DEFAULT_BUCKETS,
  DEFAULT_ELU_INTERVAL,
  DEFAULT_ELU_WINDOW,
  DEFAULT_LOAD_REPORT_INTERVAL,
  DEFAULT_LOAD_REPORT_WINDOW,
  DEFAULT_MAX_SERIES,
  DEFAULT_METRICS_PATH,
  type EventLoopUtilizationOptions,
  type ExemplarSource,
  type LoadReportOptions,
  type MetricsOptions,
  type ResolvedMetricsOptions,
  type RouteResolver,
  type RuntimeOptions,
} from './options.ts';
export {
  createProfiling,
  DEFAULT_PROFILE_MAX_SECONDS,
  DEFAULT_PROFILE_SECONDS,
  DEFAULT_PROFILING_PATH,
  type ProfilingOptions,
} from './profiling.ts';
export { type ScrapeOptions, scrapeRegistry, scrapeRegistryBuffer } from './scrape.ts';
