import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidOption, knownKeys, plainObject, positiveMs, urlPath } from '@readykit/health/validate';
import {
  type Aggregator,
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import { CONTENT_TYPES, type ExpositionFormat, negotiateFormat } from './exposition.ts';
import { matchesPath, writeBody, writePlain } from './metrics-http.ts';
import { DEFAULT_METRICS_PATH } from './options.ts';
import { scrapeRegistryBuffer } from './scrape.ts';

/*
 * Cluster mode: under node:cluster each worker keeps its own metrics; one scrape of the primary
 * asks every live worker at once over IPC for `registry.getMetricsAsJSON()` (which reads
 * readykit's request counter and histogram through their prom-client-shaped `get()`), waits at
 * most `timeoutMs` for each, and combines what arrived with prom-client's
 * `AggregatorRegistry.aggregate()`. A worker that does not answer in time (a blocked event
 * loop, a crash) is left out and counted, never failing the scrape: prom-client's own
 * `clusterMetrics()` rejects the whole scrape after 5 s when one worker is stuck.
 */

/** IPC message type of the primary's request; the worker answers with {@link CLUSTER_SCRAPE_RESPONSE}. */
export const CLUSTER_SCRAPE_REQUEST = 'readykit:metrics:cluster-scrape';
export const CLUSTER_SCRAPE_RESPONSE = 'readykit:metrics:cluster-scrape-result';
/** Longest wait for one worker's answer, in ms. */
export const DEFAULT_CLUSTER_TIMEOUT = 1_000;
/**
 * Aggregators applied over the workers' own: `nodejs_eventloop_utilization` is a 0-1 ratio per
 * process, so the cluster reports the mean, not the sum (a gauge's prom-client default).
 */
export const DEFAULT_CLUSTER_AGGREGATORS: Readonly<Record<string, Aggregator>> = Object.freeze({
  nodejs_eventloop_utilization: 'average',
});
export const CLUSTER_RESPONDING_METRIC = 'readykit_cluster_workers_responding';
export const CLUSTER_EXPECTED_METRIC = 'readykit_cluster_workers_expected';

const AGGREGATOR_NAMES: readonly string[] = ['sum', 'first', 'min', 'max', 'average', 'omit'];

interface ScrapeRequest {
  readonly type: typeof CLUSTER_SCRAPE_REQUEST;
  readonly id: string;
}

interface ScrapeResponse {
  readonly type: typeof CLUSTER_SCRAPE_RESPONSE;
  readonly id: string;
  /** One `getMetricsAsJSON()` result per registry served. */
  readonly metrics?: unknown;
  readonly error?: string;
}

/** Anything holding a prom-client registry, such as a `Metrics` instance, or the registry itself. */
export type RegistrySource = { readonly registry: Registry } | Registry;

/** The IPC side of a worker process: `process` in a cluster worker. Injected by tests. */
export interface ClusterChannel {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  send?(
    message: unknown,
    sendHandle: undefined,
    options: undefined,
    callback: (error: Error | null) => void,
  ): boolean;
  readonly connected?: boolean;
}

/**
 * In a cluster worker: answers the primary's scrape requests with the JSON of `source`'s
 * registry (or of several registries, merged by the primary as if one). Messages of any other
 * shape are ignored. Returns a function that stops answering. Outside a cluster worker (and
 * with no `channel`) it does nothing, so the same code runs with or without node:cluster.
 * While it answers, the IPC channel keeps the worker's event loop alive, as any `message`
 * listener on `process` does.
 */
export function serveClusterScrapes(
  source: RegistrySource | readonly RegistrySource[],
  channel: ClusterChannel | undefined = cluster.isWorker ? (process as unknown as ClusterChannel) : undefined,
): () => void {
  const registries = (Array.isArray(source) ? source : [source]).map((s, i) =>
    registryOf(Array.isArray(source) ? `source[${i}]` : 'source', s),
  );
  if (channel === undefined) return () => {};
  const listener = (message: unknown): void => {
    if (!isRequest(message)) return;
    Promise.all(registries.map((r) => r.getMetricsAsJSON())).then(
      (metrics) => reply(channel, { type: CLUSTER_SCRAPE_RESPONSE, id: message.id, metrics }),
      (error: unknown) =>
        reply(channel, { type: CLUSTER_SCRAPE_RESPONSE, id: message.id, error: messageOf(error) }),
    );
  };
  channel.on('message', listener);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    channel.off('message', listener);
  };
}

export interface ClusterAggregatorOptions {
  /** Longest wait for each worker's answer, in ms; workers are asked at once, so also the longest scrape. @default 1000 */
  timeoutMs?: number;
  /** A primary-side registry whose metrics join the aggregation as one more participant. @default none */
  registry?: Registry;
  /** The path `handle()` answers. @default '/metrics' */
  path?: string;
  /** prom-client aggregator per metric name, over the one each metric declares. @default DEFAULT_CLUSTER_AGGREGATORS */
  aggregators?: Readonly<Record<string, Aggregator>>;
}

export interface ClusterAggregator {
  readonly timeoutMs: number;
  readonly path: string;
  /**
   * The aggregated exposition of every live worker, plus the `readykit_cluster_workers_*`
   * gauges. Resolves within about `timeoutMs` whatever the workers do; rejects only when the
   * aggregation itself fails (e.g. an unknown aggregator name).
   */
  scrape(format?: ExpositionFormat): Promise<string>;
  /**
   * Answers `GET|HEAD` on `path` (any query) with {@link scrape} and returns true; returns false
   * for every other request. Other methods get 405; Prometheus text 0.0.4 unless `Accept`
   * prefers OpenMetrics 1.0; a failed aggregation answers 500.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The workers and IPC of the primary: node:cluster itself. Injected by tests. */
export interface ClusterPrimary {
  readonly workers?: NodeJS.Dict<Worker>;
  on(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  off(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
}

let sequence = 0;

/**
 * In the cluster primary: scrapes every live worker running {@link serveClusterScrapes} and
 * aggregates their metrics with prom-client's `AggregatorRegistry.aggregate()`: each metric by
 * its own `aggregator` (counters and histograms summed, gauges summed unless they say otherwise,
 * `process_start_time_seconds` omitted, ...), overridden by `options.aggregators`.
 */
export function createClusterAggregator(
  options: ClusterAggregatorOptions = {},
  primary: ClusterPrimary = cluster,
): ClusterAggregator {
  knownKeys('options', plainObject('options', options), ['timeoutMs', 'registry', 'path', 'aggregators']);
  const timeoutMs = positiveMs('timeoutMs', options.timeoutMs, DEFAULT_CLUSTER_TIMEOUT);
  const path = options.path === undefined ? DEFAULT_METRICS_PATH : urlPath('path', options.path);
  const own = options.registry === undefined ? undefined : registryOf('registry', options.registry);
  const overrides = Object.freeze({ ...DEFAULT_CLUSTER_AGGREGATORS, ...aggregators(options.aggregators) });

  // One 'message' listener on the cluster while any scrape waits, removed when none does.
  const pending = new Map<string, (worker: Worker, response: ScrapeResponse) => void>();
  const onMessage = (worker: Worker, message: unknown): void => {
    if (isResponse(message)) pending.get(message.id)?.(worker, message);
  };

  const collect = (): Promise<{ results: unknown[][]; expected: number }> => {
    const workers = Object.values(primary.workers ?? {}).filter(
      (w): w is Worker => w?.isConnected() === true,
    );
    if (workers.length === 0) return Promise.resolve({ results: [], expected: 0 });
    const id = `${process.pid}:${++sequence}`;
    const answered = new Map<number, unknown[]>();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        if (pending.size === 0) primary.off('message', onMessage);
        resolve({ results: [...answered.values()], expected: workers.length });
      };
      const waiting = new Set(workers.map((w) => w.id));
      const settle = (workerId: number, metrics?: unknown[]): void => {
        if (!waiting.delete(workerId)) return;
        if (metrics !== undefined) answered.set(workerId, metrics);
        if (waiting.size === 0) finish();
      };
      if (pending.size === 0) primary.on('message', onMessage);
      pending.set(id, (worker, response) => {
        // An error or a malformed answer counts as not responding.
        settle(worker.id, response.error === undefined ? metricsOf(response.metrics) : undefined);
      });
      timer = setTimeout(finish, timeoutMs);
      timer.unref();
      const request: ScrapeRequest = { type: CLUSTER_SCRAPE_REQUEST, id };
      for (const worker of workers) {
        try {
          worker.send(request, undefined, undefined, (error) => {
            if (error) settle(worker.id);
          });
        } catch {
          settle(worker.id);
        }
      }
    });
  };

  const scrapeBuffer = async (format: ExpositionFormat): Promise<Buffer> => {
    const [{ results, expected }, local] = await Promise.all([collect(), own?.getMetricsAsJSON()]);
    const participants: MetricObjectWithValues<MetricValue<string>>[][] = results.map((metrics) =>
      metrics.map((m) => withAggregator(m as MetricObjectWithValues<MetricValue<string>>, overrides)),
    );
    if (local !== undefined) participants.push(local.map((m) => withAggregator(m, overrides)));
    participants.unshift(clusterGauges(results.length, expected));
    const registry = AggregatorRegistry.aggregate(participants) as Registry;
    return scrapeRegistryBuffer(registry, format);
  };

  return Object.freeze({
    timeoutMs,
    path,
    async scrape(format: ExpositionFormat = 'prometheus'): Promise<string> {
      return (await scrapeBuffer(format)).toString('utf8');
    },
    handle(req: IncomingMessage, res: ServerResponse): boolean {
      if (!matchesPath(req.url ?? '/', path)) return false;
      const head = req.method === 'HEAD';
      if (req.method !== 'GET' && !head) {
        writePlain(res, 405, 'method not allowed\n', false);
        return true;
      }
      const format = negotiateFormat(req.headers.accept);
      scrapeBuffer(format).then(
        (body) => writeBody(res, 200, CONTENT_TYPES[format], body, head),
        (error: unknown) => {
          process.emitWarning(
            `readykit metrics: cluster aggregation failed: ${messageOf(error)}`,
            'ReadykitWarning',
          );
          writePlain(res, 500, 'metrics collection failed\n', head);
        },
      );
      return true;
    },
  });
}

/** The two gauges, in the shape of `getMetricsAsJSON()`, kept as they are (`first`). */
function clusterGauges(responding: number, expected: number): MetricObjectWithValues<MetricValue<string>>[] {
  const gauge = (name: string, help: string, value: number) =>
    ({
      name,
      help,
      type: 'gauge',
      aggregator: 'first',
      values: [{ value, labels: {} }],
    }) as unknown as MetricObjectWithValues<MetricValue<string>>;
  return [
    gauge(CLUSTER_RESPONDING_METRIC, 'Cluster workers whose metrics are in this scrape.', responding),
    gauge(CLUSTER_EXPECTED_METRIC, 'Live cluster workers asked for their metrics by this scrape.', expected),
  ];
}

function withAggregator(
  metric: MetricObjectWithValues<MetricValue<string>>,
  overrides: Readonly<Record<string, Aggregator>>,
): MetricObjectWithValues<MetricValue<string>> {
  const aggregator = overrides[metric.name];
  const values = metric.values.map((v) =>
    // JSON over IPC turns NaN and infinities into null; NaN at least keeps the exposition valid.
    v.value === null ? { ...v, value: Number.NaN } : v,
  );
  return aggregator === undefined ? { ...metric, values } : { ...metric, values, aggregator };
}

function metricsOf(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: unknown[] = [];
  for (const list of value) {
    if (!Array.isArray(list)) return undefined;
    for (const metric of list) {
      const m = metric as { name?: unknown; values?: unknown } | null;
      if (m === null || typeof m !== 'object' || typeof m.name !== 'string' || !Array.isArray(m.values))
        return undefined;
      out.push(metric);
    }
  }
  return out;
}

function isRequest(message: unknown): message is ScrapeRequest {
  const m = message as Partial<ScrapeRequest> | null;
  return m !== null && typeof m === 'object' && m.type === CLUSTER_SCRAPE_REQUEST && typeof m.id === 'string';
}

function isResponse(message: unknown): message is ScrapeResponse {
  const m = message as Partial<ScrapeResponse> | null;
  return (
    m !== null && typeof m === 'object' && m.type === CLUSTER_SCRAPE_RESPONSE && typeof m.id === 'string'
  );
}

function reply(channel: ClusterChannel, response: ScrapeResponse): void {
  if (channel.connected === false || channel.send === undefined) return;
  try {
    channel.send(response, undefined, undefined, () => {}); // the primary gone: nobody to answer
  } catch {
    // Channel closed between the check and the send.
  }
}

function registryOf(path: string, value: unknown): Registry {
  const o = value as { registry?: unknown; getMetricsAsJSON?: unknown } | null;
  if (o !== null && typeof o === 'object') {
    if (typeof o.getMetricsAsJSON === 'function') return o as unknown as Registry;
    const inner = o.registry as { getMetricsAsJSON?: unknown } | null | undefined;
    if (inner != null && typeof inner.getMetricsAsJSON === 'function') return inner as unknown as Registry;
  }
  throw invalidOption(path, 'a prom-client Registry or a Metrics instance', value);
}

function aggregators(value: unknown): Record<string, Aggregator> {
  if (value === undefined) return {};
  const o = plainObject('aggregators', value);
  for (const [name, aggregator] of Object.entries(o)) {
    if (typeof aggregator !== 'string' || !AGGREGATOR_NAMES.includes(aggregator))
      throw invalidOption(`aggregators.${name}`, `one of ${AGGREGATOR_NAMES.join(', ')}`, aggregator);
  }
  return o as Record<string, Aggregator>;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.slice(0, 200);
}
