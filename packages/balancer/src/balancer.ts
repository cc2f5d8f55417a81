import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth, type Health } from '@readykit/health';
import { createMetrics, ManagementServer, type Metrics } from '@readykit/metrics';
import { AdminApi } from './admin/admin-api.ts';
import { BalancerMetrics } from './admin/balancer-metrics.ts';
import { Dashboard } from './admin/dashboard.ts';
import type { Backend } from './backend.ts';
import { BackendSet } from './backend-set.ts';
import { createBalance } from './balance/create-balance.ts';
import { Cluster } from './cluster.ts';
import { changedSettings, RELOADABLE_SETTINGS } from './config-changes.ts';
import type { Discovery } from './discover/discovery.ts';
import { StaticDiscovery } from './discover/static-discovery.ts';
import { type BalancerConfig, type BalancerOptions, resolveBalancerConfig } from './options.ts';
import { ProxyEngine } from './proxy/proxy-engine.ts';

/** Things a program embedding the balancer may replace; the CLI uses the defaults. */
export interface BalancerRuntime {
  /** Where backend sets come from. @default the configured `backends` */
  discovery?: Discovery;
  /** Uniform random numbers in [0, 1) for the pick functions. @default Math.random */
  rng?: () => number;
  /** One line per notable event (listening, backend state changes). @default none */
  log?: (line: string) => void;
  /** Handle SIGTERM and SIGINT with the graceful shutdown timeline and exit at its end. @default false */
  handleSignals?: boolean;
}

/** Where the balancer listens, once started. */
export interface BalancerAddresses {
  readonly proxy: string;
  readonly admin: string;
}

/**
 * The reference load balancer: a proxy listener that spreads requests over the backends
 * discovery provides, acting on their readiness, drain and latency, and an admin listener
 * with `/metrics`, `/healthz`, `/readyz` and `/api/backends`. Shuts down with the kit's
 * timeline: readiness 503, keep serving for `shutdown.delay`, stop accepting, drain.
 */
/** What {@link Balancer.reconfigure} did with a new configuration. */
export interface ReconfigureResult {
  /** Settings now in effect. */
  readonly applied: readonly string[];
  /** Settings that changed but are read at start only. */
  readonly needRestart: readonly string[];
}

export class Balancer {
  readonly backends: BackendSet;
  readonly health: Health;
  readonly metrics: Metrics;
  readonly engine: ProxyEngine;
  readonly #cluster: Cluster;
  readonly #discovery: Discovery;
  readonly #server: Server;
  readonly #admin: ManagementServer;
  readonly #dashboard: Dashboard;
  readonly #log: (line: string) => void;
  #config: BalancerConfig;
  #unsubscribe: (() => void) | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: BalancerOptions | BalancerConfig = {}, runtime: BalancerRuntime = {}) {
    const config =
      Object.isFrozen(options) && 'listen' in options && typeof options.listen === 'object'
        ? (options as BalancerConfig)
        : resolveBalancerConfig(options);
    this.#config = config;
    this.#log = runtime.log ?? (() => {});
    this.#discovery = runtime.discovery ?? new StaticDiscovery(config.backends);
    this.backends = new BackendSet(config);
    this.backends.onChange((backend) =>
      this.#log(`backend ${backend.id} ${backend.state}${describeEjection(backend)}`),
    );
    const handleSignals = runtime.handleSignals === true;
    this.health = createHealth({
      readiness: { backends: () => this.backends.readyCount(performance.now()) > 0 },
      shutdown: {
        signals: handleSignals ? ['SIGTERM', 'SIGINT'] : [],
        exit: handleSignals,
        ...(config.shutdown.delay === undefined ? {} : { delay: config.shutdown.delay }),
        drainTimeout: config.shutdown.drainTimeout,
        terminationGracePeriod: (config.shutdown.delay ?? 5000) + config.shutdown.drainTimeout + 10_000,
      },
      hooks: { 'close-backends': () => this.#closeUpstreams(), 'close-admin': () => this.#closeAdmin() },
    });
    this.health.on('shutdown', ({ phase, elapsed, detail }) =>
      this.#log(`shutdown ${phase} +${elapsed}ms${detail ? ` ${detail}` : ''}`),
    );
    this.metrics = createMetrics({ health: this.health });
    const balancerMetrics = new BalancerMetrics(this.metrics.registry).addSource({
      backends: this.backends,
      retryBudgetExhausted: () => this.engine.retryBudget.exhausted,
      latencySamplesSkipped: () => this.#cluster.latencySamplesSkipped,
      inFlight: () => this.engine.inFlight,
    });
    this.#cluster = new Cluster(
      config,
      this.backends,
      createBalance(config.algorithm, { tableSize: config.maglevTableSize }),
      balancerMetrics,
      runtime.rng ?? Math.random,
    );
    this.engine = new ProxyEngine(config, this.#cluster);
    this.#server = createServer(
      {
        maxHeaderSize: config.limits.maxHeaderSize,
        headersTimeout: config.timeouts.clientHeaders,
        requestTimeout: config.timeouts.clientRequest,
        keepAliveTimeout: config.timeouts.clientIdle,
        requireHostHeader: true,
        // Node enforces the two client timeouts on this timer (30 s by default): a slowloris
        // client would hold its socket up to 30 s past --client-header-timeout.
        connectionsCheckingInterval: 1000,
      },
      this.engine.handle,
    );
    this.#server.maxConnections = config.limits.maxConnections;
    // Without a listener Node drops CONNECT silently; the balancer is no forward proxy.
    this.#server.on('connect', (_req, socket) => {
      socket.on('error', () => {});
      socket.end(
        'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nmethod not allowed\n',
      );
    });
    this.health.attach(this.#server);
    // What the API and the dashboard both read; the algorithm and discovery may change on reload.
    const adminSource = {
      backends: this.backends,
      describe: () => ({ algorithm: this.#config.algorithm, discovery: this.#discovery.description }),
      inFlight: () => this.engine.inFlight,
      log: this.#log,
    };
    this.#dashboard = new Dashboard({ ...adminSource, window: this.engine.window });
    this.#admin = new ManagementServer({
      host: config.admin.host,
      port: config.admin.port,
      handlers: [
        (req, res) => this.health.handle(req, res),
        (req, res) => this.metrics.handle(req, res),
        new AdminApi({ ...adminSource, token: config.adminToken }).handle,
        this.#dashboard.handle,
      ],
    });
  }

  /** The configuration in effect (a reload replaces it). */
  get config(): BalancerConfig {
    return this.#config;
  }

  /** Where backends come from. */
  get discovery(): Discovery {
    return this.#discovery;
  }

  /**
   * Applies a new configuration (a reload of the config file): the backend list when it is
   * static, weights, the algorithm and its hashing settings take effect for the next request,
   * without a restart and without failing a request in flight. Other changed settings are
   * reported back and logged, and wait for a restart.
   */
  reconfigure(next: BalancerConfig): ReconfigureResult {
    const changed = changedSettings(this.#config, next);
    const applied = changed.filter((key) => RELOADABLE_SETTINGS.has(key));
    const needRestart = changed.filter((key) => !RELOADABLE_SETTINGS.has(key));
    if (applied.includes('backends') && this.#discovery instanceof StaticDiscovery) {
      this.#discovery.update(next.backends);
    }
    if (applied.some((key) => key !== 'backends')) {
      this.engine.setBalance(createBalance(next.algorithm, { tableSize: next.maglevTableSize }), next);
    }
    // Start-only settings keep their running values, so the next reload reports them again.
    const effective: Record<string, unknown> = { ...this.#config };
    for (const key of RELOADABLE_SETTINGS) effective[key] = next[key as keyof BalancerConfig];
    this.#config = Object.freeze(effective) as unknown as BalancerConfig;
    if (applied.length > 0) this.#log(`config reloaded: ${applied.join(', ')} applied`);
    if (needRestart.length > 0)
      this.#log(`config reloaded: ${needRestart.join(', ')} changed; restart to apply`);
    return { applied, needRestart };
  }

  /** Listens on both addresses, then starts discovery and the readiness checks. */
  async start(): Promise<BalancerAddresses> {
    const { host, port } = this.config.listen;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const admin = await this.#admin.listen();
    this.#unsubscribe = this.#discovery.subscribe((set) => this.backends.apply(set));
    this.#cluster.start();
    const addresses = {
      proxy: urlOf(this.#server.address() as AddressInfo),
      admin: urlOf({ host: this.config.admin.host, port: admin.port }),
    };
    this.#log(`readykit-balancer listening on ${addresses.proxy}, admin ${addresses.admin}`);
    return addresses;
  }

  /** Stops at once: no drain (use `health.shutdown()` for the graceful timeline). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#server.close();
      this.#server.closeAllConnections();
      this.health.close();
      await Promise.all([this.#closeAdmin(), this.#closeUpstreams()]);
    })();
    return this.#closed;
  }

  // Dashboard streams never end by themselves: ended first, the listener closes at once.
  #closeAdmin(): Promise<void> {
    this.#dashboard.close();
    return this.#admin.close();
  }

  async #closeUpstreams(): Promise<void> {
    this.#unsubscribe?.();
    await Promise.all([this.#discovery.close(), this.#cluster.close()]);
  }
}

function urlOf(address: AddressInfo | { host: string; port: number }): string {
  const host = 'address' in address ? address.address : address.host;
  const port = address.port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function describeEjection(backend: Backend): string {
  const now = performance.now();
  return backend.outlier.isEjected(now)
    ? ` (ejected for ${Math.ceil(backend.outlier.ejectedUntil - now)} ms)`
    : '';
}

/** `new Balancer(options, runtime)`. */
export function createBalancer(options?: BalancerOptions, runtime?: BalancerRuntime): Balancer {
  return new Balancer(options, runtime);
}
