/** The request methods kept as label values; every other method is recorded as `_OTHER`. */
export const HTTP_METHODS = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const);

/** OpenTelemetry's value for a method outside the standard set, which keeps the label bounded. */
export const OTHER_METHOD = '_OTHER';

/** Label values by method index: the standard methods, then `_OTHER`. */
export const METHOD_LABELS: readonly string[] = Object.freeze([...HTTP_METHODS, OTHER_METHOD]);
export const OTHER_METHOD_INDEX = HTTP_METHODS.length;

/** The route label of a request the route resolver could not name. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The route label of requests recorded after the cardinality guard's cap was reached. */
export const OVERFLOW_ROUTE = 'overflow';
/**
 * The status label of a request whose connection closed before the response was complete
 * (the client hung up or the socket was destroyed): nginx's "499 Client Closed Request".
 */
export const ABORTED_STATUS = 499;

/** Index into {@link METHOD_LABELS}; no allocation, one switch (llhttp gives upper-case methods). */
export function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'CONNECT':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'TRACE':
      return 7;
    case 'PATCH':
      return 8;
    default:
      return OTHER_METHOD_INDEX;
  }
}

/** Metric and label names of the HTTP server metrics in one naming scheme. */
export interface HttpMetricNames {
  readonly requests: string;
  readonly duration: string;
  readonly inFlight: string;
  readonly method: string;
  readonly route: string;
  readonly status: string;
}

/** The names Prometheus dashboards and HPA examples use. */
export const CLASSIC_NAMES: HttpMetricNames = Object.freeze({
  requests: 'http_requests_total',
  duration: 'http_request_duration_seconds',
  inFlight: 'http_requests_in_flight',
  method: 'method',
  route: 'route',
  status: 'status_code',
});

/**
 * OpenTelemetry HTTP server semantic conventions as Prometheus names: `http.server.request.duration`
 * and `http.server.active_requests`. OpenTelemetry has no request counter (it counts with the
 * histogram's `_count`); ours keeps the semantic-convention labels under a name in the same family.
 */
export const SEMCONV_NAMES: HttpMetricNames = Object.freeze({
  requests: 'http_server_requests_total',
  duration: 'http_server_request_duration_seconds',
  inFlight: 'http_server_active_requests',
  method: 'http_request_method',
  route: 'http_route',
  status: 'http_response_status_code',
});
