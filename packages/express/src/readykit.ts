import cluster from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  Health,
  type HealthOptions,
  type HookOptions,
  type ReadinessGate,
  type ShutdownHook,
  type ShutdownResult,
} from '@readykit/health';
import {
  createMetrics,
  type ManagementServer,
  type Metrics,
  type MetricsOptions,
  serveClusterScrapes,
} from '@readykit/metrics';
import { activeTracingSdk, requestContextOf, Tracing, type TracingOptions } from '@readykit/tracing';
import { healthComponent } from './health-component.ts';
import { composeSteps, type KitComponent, type RequestStep } from './kit-component.ts';
import { type ManagementOptions, managementComponent } from './management-component.ts';
import { metricsComponent } from './metrics-component.ts';
import { routeTemplate } from './route-template.ts';
import { ServerDiscovery } from './server-discovery.ts';
import { tracingComponent } from './tracing-component.ts';

export interface ReadykitOptions extends HealthOptions {
  /**
   * Prometheus metrics on `/metrics` (see @readykit/metrics for every option); `false` turns
   * them off. The route label and the lifecycle metrics are wired by the kit.
   * @default {}
   */
  metrics?: false | Omit<MetricsOptions, 'route' | 'health'>;
  /**
   * Trace (W3C, B3), request id and deadline propagation (see @readykit/tracing for every
   * option); `false` turns it off. With tracing on, OpenMetrics scrapes carry trace ids as
   * exemplars of sampled requests.
   * @default {}
   */
  tracing?: false | TracingOptions;
  /**
   * A separate listener for `/metrics` (and profiling, when enabled): management routes then
   * stay off the public listener. Unset: `/metrics` is served on the app's own port.
   */
  management?: ManagementOptions;
  /** Extra components (metrics, tracing, your own) run after health, in order. */
  components?: readonly KitComponent[];
  /** Attach to the server `app.listen()` creates, found through `node:diagnostics_channel`. @default true */
  autoAttach?: boolean;
}

/** The middleware, with the handles a service needs on the kit. */
export interface Readykit {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  readonly health: Health;
  /** The tracing instance, unless `tracing: false`. */
  readonly tracing: Tracing | undefined;
  /** The metrics instance, unless `metrics: false`. */
  readonly metrics: Metrics | undefined;
  /** The management listener, when `management` is set; `await kit.management.listen()` gives its port. */
  readonly management: ManagementServer | undefined;
  readonly components: readonly KitComponent[];
  /** The gate declared under `name`; `kit.gate('db').open()` when the pool is warm. */
  gate(name: string): ReadinessGate;
  /** Attaches to a server created some other way than `app.listen()`. Idempotent. */
  attach(server: Server): Readykit;
  /** Adds a cleanup hook run after draining. */
  onShutdown(name: string, hook: ShutdownHook | HookOptions): Readykit;
  /** Starts graceful shutdown as SIGTERM would. */
  shutdown(reason?: string): Promise<ShutdownResult>;
  /** Stops timers, signal handling and discovery; for tests and hot reload. */
  close(): Promise<void>;
}

/**
 * `app.use(readykit())`: probes answered before any later middleware, graceful shutdown
 * wired to the server `app.listen()` creates. See the package README for every option.
 */
export function readykit(options: ReadykitOptions = {}): Readykit {
  const {
    components: extra = [],
    autoAttach = true,
    metrics: metricsOptions = {},
    tracing: tracingOptions = {},
    management,
    ...healthOptions
  } = options;
  const health = new Health(healthOptions);
  const tracing = tracingOptions === false ? undefined : new Tracing(tracingOptions);
  const metrics =
    metricsOptions === false
      ? undefined
      : createMetrics({
          ...metricsOptions,
          route: routeTemplate,
          health,
          ...(tracing === undefined ? {} : { exemplar: sampledTraceId }),
        });
  const managed = management === undefined ? undefined : managementComponent(management, metrics);
  // Closed last in the shutdown timeline, so scrapes keep working while requests drain.
  if (managed !== undefined)
    health.onShutdown('management-listener', { hook: () => managed.close(), timeout: 1000 });
  // Spans still queued in the SDK's exporter go out after the last request has drained.
  const sdk = activeTracingSdk();
  if (sdk !== undefined) health.onShutdown('tracing-flush', { hook: () => sdk.shutdown(), timeout: 2000 });
  // Under node:cluster a worker answers the primary's aggregated scrapes (createClusterAggregator).
  const stopClusterScrapes =
    metrics !== undefined && cluster.isWorker ? serveClusterScrapes(metrics) : undefined;
  const components: readonly KitComponent[] = Object.freeze([
    healthComponent(health),
    ...(tracing === undefined ? [] : [tracingComponent(tracing)]),
    ...(metrics === undefined ? [] : [metricsComponent(metrics, { serve: managed === undefined })]),
    ...(managed === undefined ? [] : [managed]),
    ...extra,
  ]);
  const chain: RequestStep = composeSteps(
    components.flatMap((c) => (c.handle === undefined ? [] : [c.handle])),
  );
  const attached = new WeakSet<Server>();
  let discovery: ServerDiscovery | undefined;

  const attach = (server: Server): void => {
    if (attached.has(server)) return;
    attached.add(server);
    for (const component of components) component.attach?.(server);
  };

  const kit = function readykitMiddleware(req, res, next) {
    const server = (req.socket as { server?: Server } | null)?.server;
    if (server !== undefined && !attached.has(server)) {
      // A server discovery did not see (a wrapped handler, say): attach now. This one request
      // came in before probes were intercepted, so it still gets its probe answer here.
      attach(server);
      health.adopt(req);
      if (health.handle(req, res)) return;
    }
    chain(req, res, () => next());
  } as Readykit;

  Object.defineProperties(kit, {
    health: { value: health, enumerable: true },
    tracing: { value: tracing, enumerable: true },
    metrics: { value: metrics, enumerable: true },
    management: { value: managed?.server, enumerable: true },
    components: { value: components, enumerable: true },
  });
  kit.gate = (name) => health.gate(name);
  kit.attach = (server) => {
    attach(server);
    return kit;
  };
  kit.onShutdown = (name, hook) => {
    health.onShutdown(name, hook);
    return kit;
  };
  kit.shutdown = (reason) => health.shutdown(reason);
  kit.close = async () => {
    discovery?.close();
    stopClusterScrapes?.();
    for (const component of [...components].reverse()) await component.close?.();
  };
  if (autoAttach) discovery = new ServerDiscovery(kit, attach);
  return kit;
}

/** Exemplars point at traces a backend can show: only sampled ones. */
function sampledTraceId(req: IncomingMessage): string | undefined {
  const requestContext = requestContextOf(req);
  return requestContext?.sampled ? requestContext.traceId : undefined;
}
