import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Health } from '@readykit/health';
import {
  bool,
  fn,
  invalidOption,
  knownKeys,
  plainObject,
  positiveMs,
  urlPath,
} from '@readykit/health/validate';
import type { Registry } from 'prom-client';
import { buckets, metricPrefix, positiveInteger } from './validate.ts';

/** OpenTelemetry's HTTP server duration buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);
/** Most label sets per HTTP metric before new ones go to `route="overflow"`. */
export const DEFAULT_MAX_SERIES = 1_000;
export const DEFAULT_METRICS_PATH = '/metrics';
/** Sliding window of `nodejs_eventloop_utilization`: one default kubelet probe period. */
export const DEFAULT_ELU_WINDOW = 10_000;
export const DEFAULT_ELU_INTERVAL = 1_000;
/** Trailing window of the utilization in the load report header: short, so a balancer sees saturation within a second. */
export const DEFAULT_LOAD_REPORT_WINDOW = 1_000;
export const DEFAULT_LOAD_REPORT_INTERVAL = 100;
/** Buckets of `readykit_check_duration_seconds`: checks time out at 500 ms by default. */
export const CHECK_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

/**
 * Names the route template of a request once its response has closed, e.g. `/users/:id`;
 * a framework adapter injects one. `undefined`, `null` or `''` record `route="unmatched"`.
 */
export type RouteResolver = (req: IncomingMessage, res: ServerResponse) => string | null | undefined;

/**
 * The trace id of a request, attached as an OpenMetrics exemplar `{trace_id="..."}` to the
 * duration histogram bucket it lands in. `undefined` or `null` for none.
 */
export type ExemplarSource = (req: IncomingMessage, res: ServerResponse) => string | null | undefined;

export interface EventLoopUtilizationOptions {
  /** The gauge reports utilization over this trailing window, in ms. @default 10000 */
  window?: number;
  /** How often `performance.eventLoopUtilization()` is sampled (unref'd timer), in ms. @default 1000, or `window` if shorter */
  interval?: number;
}

export interface RuntimeOptions {
  /** Prefix of the runtime metric names (prom-client's defaults and the ELU gauge). @default '' */
  prefix?: string;
  /** prom-client's default metrics: CPU, memory, heap, GC, handles, event loop lag. @default true */
  defaultMetrics?: boolean;
  /** The `nodejs_eventloop_utilization` gauge; `false` to turn it off. @default { window: 10000, interval: 1000 } */
  eventLoopUtilization?: false | EventLoopUtilizationOptions;
}

export interface LoadReportOptions {
  /** `application_utilization` is the event loop utilization over this trailing window, in ms. @default 1000 */
  window?: number;
  /** How often the utilization is sampled and the cached header refreshed (unref'd timer), in ms. @default 100, or `window` if shorter */
  interval?: number;
}

export interface MetricsOptions {
  /** Register into this prom-client registry (e.g. its global `register`). @default a private Registry */
  registry?: Registry;
  /** OpenTelemetry semantic-convention names and labels for the HTTP metrics. @default false */
  semconv?: boolean;
  /** Upper bounds of the request duration histogram, in seconds. @default OpenTelemetry's 0.005 … 10 */
  buckets?: readonly number[];
  /** Most label sets per HTTP metric; later ones are recorded under `route="overflow"`. @default 1000 */
  maxSeries?: number;
  /** The route template of a request. @default none: every request is `route="unmatched"` */
  route?: RouteResolver;
  /** The trace id of a request, for exemplars on the duration histogram. @default none: no exemplars */
  exemplar?: ExemplarSource;
  /** Path answered by `handle()`. @default '/metrics' */
  path?: string;
  /** Runtime metrics; `false` turns off both prom-client's defaults and the ELU gauge. @default {} */
  runtime?: false | RuntimeOptions;
  /** A `@readykit/health` instance whose lifecycle to export (same as `observeHealth()`). @default none */
  health?: Health;
  /** The `endpoint-load-metrics` header (ORCA, TEXT form) on tracked responses: ELU and in-flight, for balancers. @default false */
  loadReport?: boolean | LoadReportOptions;
}

const METRICS_OPTION_KEYS = [
  'registry',
  'semconv',
  'buckets',
  'maxSeries',
  'route',
  'exemplar',
  'path',
  'runtime',
  'health',
  'loadReport',
] as const satisfies ReadonlyArray<keyof MetricsOptions>;

export interface ResolvedRuntime {
  readonly prefix: string;
  readonly defaultMetrics: boolean;
  readonly eventLoopUtilization: false | { readonly window: number; readonly interval: number };
}

export interface ResolvedMetricsOptions {
  readonly registry: Registry | undefined;
  readonly semconv: boolean;
  readonly buckets: readonly number[];
  readonly maxSeries: number;
  readonly route: RouteResolver | undefined;
  readonly exemplar: ExemplarSource | undefined;
  readonly path: string;
  readonly runtime: false | ResolvedRuntime;
  readonly health: Health | undefined;
  readonly loadReport: false | { readonly window: number; readonly interval: number };
}

/**
 * Validates once, at construction; returns a frozen copy that never aliases the caller's
 * objects. The registry and the Health instance are kept by reference and not frozen.
 */
export function resolveMetricsOptions(options: MetricsOptions = {}): ResolvedMetricsOptions {
  knownKeys('options', plainObject('options', options), METRICS_OPTION_KEYS);
  return Object.freeze({
    registry: options.registry === undefined ? undefined : registry('registry', options.registry),
    semconv: bool('semconv', options.semconv, false),
    buckets: Object.freeze(buckets('buckets', options.buckets, DEFAULT_BUCKETS)),
    maxSeries: positiveInteger('maxSeries', options.maxSeries, DEFAULT_MAX_SERIES),
    route: options.route === undefined ? undefined : fn<RouteResolver>('route', options.route),
    exemplar: options.exemplar === undefined ? undefined : fn<ExemplarSource>('exemplar', options.exemplar),
    path: options.path === undefined ? DEFAULT_METRICS_PATH : urlPath('path', options.path),
    runtime: resolveRuntime(options.runtime),
    health: options.health === undefined ? undefined : health('health', options.health),
    loadReport: resolveLoadReport(options.loadReport),
  });
}

function resolveRuntime(value: MetricsOptions['runtime']): ResolvedMetricsOptions['runtime'] {
  if (value === false) return false;
  const o = value === undefined ? {} : plainObject('runtime', value);
  knownKeys('runtime', o, ['prefix', 'defaultMetrics', 'eventLoopUtilization']);
  return Object.freeze({
    prefix: metricPrefix('runtime.prefix', o.prefix, ''),
    defaultMetrics: bool('runtime.defaultMetrics', o.defaultMetrics, true),
    eventLoopUtilization: resolveElu(o.eventLoopUtilization),
  });
}

function resolveElu(value: unknown): ResolvedRuntime['eventLoopUtilization'] {
  if (value === false) return false;
  const path = 'runtime.eventLoopUtilization';
  const o = value === undefined ? {} : plainObject(path, value);
  knownKeys(path, o, ['window', 'interval']);
  return windowAndInterval(path, o, DEFAULT_ELU_WINDOW, DEFAULT_ELU_INTERVAL);
}

function resolveLoadReport(value: MetricsOptions['loadReport']): ResolvedMetricsOptions['loadReport'] {
  if (value === undefined || value === false) return false;
  if (value !== true && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalidOption('loadReport', 'a boolean or an object { window, interval }', value);
  }
  const o = (value === true ? {} : value) as Record<string, unknown>;
  knownKeys('loadReport', o, ['window', 'interval']);
  return windowAndInterval('loadReport', o, DEFAULT_LOAD_REPORT_WINDOW, DEFAULT_LOAD_REPORT_INTERVAL);
}

function windowAndInterval(
  path: string,
  o: Record<string, unknown>,
  defaultWindow: number,
  defaultInterval: number,
): { readonly window: number; readonly interval: number } {
  const window = positiveMs(`${path}.window`, o.window, defaultWindow);
  const interval = positiveMs(`${path}.interval`, o.interval, Math.min(defaultInterval, window));
  if (interval > window) throw invalidOption(`${path}.interval`, `<= window (${window})`, interval);
  return Object.freeze({ window, interval });
}

/** Duck-typed, so a registry from another copy of prom-client is accepted too. */
function registry(path: string, value: unknown): Registry {
  const o = value as Partial<Record<keyof Registry, unknown>> | null;
  const methods = ['registerMetric', 'getSingleMetric', 'removeSingleMetric', 'getMetricsAsArray'] as const;
  if (o === null || typeof o !== 'object' || methods.some((m) => typeof o[m] !== 'function')) {
    throw invalidOption(path, 'a prom-client Registry', value);
  }
  return value as Registry;
}

function health(path: string, value: unknown): Health {
  const o = value as Partial<Record<keyof Health, unknown>> | null;
  if (o === null || typeof o !== 'object' || typeof o.on !== 'function' || typeof o.off !== 'function') {
    throw invalidOption(path, 'a Health instance from @readykit/health', value);
  }
  return value as Health;
}
