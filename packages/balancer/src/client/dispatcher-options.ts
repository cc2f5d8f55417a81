import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { AlgorithmName } from '../balance/candidate.ts';
import type { Discovery } from '../discover/discovery.ts';
import { BalancerError, BalancerErrorCodes, invalidConfig } from '../errors.ts';
import { isHttpOrigin } from '../http-origin.ts';
import { type BalancerConfig, flattenConfig, resolveBalancerConfig } from '../options.ts';

/**
 * Options of {@link createBalancedDispatcher}. Besides these, every setting of the balancer's
 * config file that concerns upstream calls is accepted under the same key: `healthCheck`,
 * `slowStart`, `outlier`, `panicThreshold`, `retry`, `timeouts.connect`, `timeouts.firstByte`,
 * `timeouts.upstreamIdle`, `limits.backendConnections`, `ewma`, `loadReport`, `hashHeader`,
 * `maglevTableSize`, `discoveryScheme`.
 */
export interface BalancedDispatcherOptions {
  /**
   * The logical origin this dispatcher balances, e.g. `http://orders.default.svc`: calls to it go
   * to the backends discovery gives (per call, never per connection); calls to any other origin
   * go to `fallback`. Its host is sent as `Host` unless the call sets one.
   */
  origin: string;
  /** Where backends come from (static, DNS, Kubernetes EndpointSlices). Or give `backends`. */
  discovery?: Discovery;
  /** A fixed list of backend URLs (`weight=N` query allowed, as on the command line) instead of `discovery`. */
  backends?: readonly (string | { url: string; weight?: number })[];
  /** @default 'p2c-ewma' */
  algorithm?: AlgorithmName;
  /** Calls to other origins. @default undici's global dispatcher when the dispatcher is created */
  fallback?: Dispatcher;
  /**
   * Registry to report per-backend metrics into (`kit.metrics.registry` puts them on the
   * service's `/metrics`), labelled `upstream`. Unset: no metrics.
   */
  registry?: Registry;
  /** The `upstream` label and the name in logs. @default the origin's host */
  name?: string;
  /** Uniform random numbers in [0, 1) for the pick functions. @default Math.random */
  rng?: () => number;
  /** One line per backend state change. @default none */
  log?: (line: string) => void;
  readonly [setting: string]: unknown;
}

// Settings of the proxy's listener and process: a dispatcher has none of them.
const PROXY_ONLY = [
  'listen',
  'admin',
  'adminToken',
  'watchConfig',
  'trustedProxies',
  'timeouts.total',
  'timeouts.clientHeaders',
  'timeouts.clientRequest',
  'timeouts.clientIdle',
  'limits.maxConnections',
  'limits.maxHeaderSize',
  'deadline.header',
  'deadline.max',
  'deadline.margin',
  'shutdown.delay',
  'shutdown.drainTimeout',
  'dns.name',
  'dns.resolver',
  'dns.minTtl',
  'dns.maxTtl',
  'kubernetes.service',
  'kubernetes.port',
  'kubernetes.kubeconfig',
];
const OWN_KEYS = new Set(['origin', 'discovery', 'fallback', 'registry', 'name', 'rng', 'log']);

/** The options, validated once: the balancer settings resolved, the origin parsed. */
export interface ResolvedDispatcherOptions {
  readonly origin: string;
  readonly host: string;
  readonly name: string;
  readonly config: BalancerConfig;
  readonly discovery: Discovery | undefined;
}

/** Validates `options`; throws `RK_ERR_INVALID_CONFIG` naming the option. */
export function resolveDispatcherOptions(options: BalancedDispatcherOptions): ResolvedDispatcherOptions {
  if (options === null || typeof options !== 'object') throw invalidConfig('options', 'an object', options);
  const url = typeof options.origin === 'string' ? URL.parse(options.origin) : null;
  if (!isHttpOrigin(url)) {
    throw invalidConfig('origin', 'an http(s) origin such as http://orders.default.svc', options.origin);
  }
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!OWN_KEYS.has(key)) settings[key] = value;
  for (const key of flattenConfig(settings).keys()) {
    if (PROXY_ONLY.includes(key)) {
      throw new BalancerError(
        BalancerErrorCodes.INVALID_CONFIG,
        `${key} is a setting of the proxy; a dispatcher has no listener of its own${key.startsWith('dns') || key.startsWith('kubernetes') ? ' (pass discovery: a DnsDiscovery or EndpointSliceDiscovery)' : ''}`,
      );
    }
  }
  const discovery = options.discovery;
  if (
    discovery !== undefined &&
    (typeof discovery !== 'object' || typeof discovery.subscribe !== 'function')
  ) {
    throw invalidConfig(
      'discovery',
      'a Discovery (StaticDiscovery, DnsDiscovery, EndpointSliceDiscovery)',
      discovery,
    );
  }
  if (discovery !== undefined && options.backends !== undefined) {
    throw new BalancerError(BalancerErrorCodes.INVALID_CONFIG, 'give discovery or backends, not both');
  }
  if (discovery === undefined && options.backends === undefined) {
    throw new BalancerError(BalancerErrorCodes.INVALID_CONFIG, 'give discovery or backends');
  }
  for (const key of ['rng', 'log'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function')
      throw invalidConfig(key, 'a function', options[key]);
  }
  if (
    options.name !== undefined &&
    (typeof options.name !== 'string' || !/^[\w.:-]{1,100}$/.test(options.name))
  ) {
    throw invalidConfig('name', 'letters, digits, ".", ":", "-" or "_" (1-100)', options.name);
  }
  if (options.fallback !== undefined && typeof (options.fallback as Dispatcher)?.dispatch !== 'function') {
    throw invalidConfig('fallback', 'an undici Dispatcher', options.fallback);
  }
  const config = resolveBalancerConfig(settings);
  return Object.freeze({
    origin: url.origin,
    host: url.host,
    name: options.name ?? url.host,
    config,
    discovery,
  });
}
