import { isIP } from 'node:net';
import { closest } from '@readykit/health/validate';
import type { AlgorithmName } from './balance/candidate.ts';
import { BalancerError, BalancerErrorCodes } from './errors.ts';
import { OPTION_TABLE, type OptionSpec } from './option-table.ts';
import { type Address, type BackendSpec, readOptionValue } from './option-values.ts';

export type { Address, BackendSpec } from './option-values.ts';

/**
 * The balancer's configuration as written in YAML or passed to `createBalancer()`: nested
 * objects keyed like the config file (`{ healthCheck: { rise: 3 } }`). Durations are ms or
 * strings with a unit (`"2s"`). Every key, flag and default is listed in the README.
 */
export type BalancerOptions = Readonly<Record<string, unknown>>;

/** Resolved, validated and frozen settings. Durations in ms. */
export interface BalancerConfig {
  readonly listen: Address;
  readonly admin: Address;
  readonly adminToken: string | undefined;
  readonly watchConfig: boolean;
  readonly backends: readonly BackendSpec[];
  readonly dns: {
    readonly name: string | undefined;
    readonly resolver: Address | undefined;
    readonly minTtl: number;
    readonly maxTtl: number;
  };
  readonly kubernetes: {
    readonly service: string | undefined;
    readonly port: string | number | undefined;
    readonly kubeconfig: string | undefined;
  };
  readonly discoveryScheme: 'http' | 'https';
  readonly algorithm: AlgorithmName;
  readonly hashHeader: string | undefined;
  readonly hashCookie: string | undefined;
  readonly maglevTableSize: number;
  readonly healthCheck: {
    readonly path: string;
    readonly interval: number;
    readonly timeout: number;
    readonly rise: number;
    readonly fall: number;
  };
  readonly slowStart: { readonly window: number; readonly minPercent: number; readonly aggression: number };
  readonly outlier: {
    readonly consecutiveFailures: number;
    readonly baseEjectionTime: number;
    readonly maxEjectionTime: number;
    readonly maxEjectionPercent: number;
  };
  readonly panicThreshold: number;
  readonly retry: {
    readonly maxRetries: number;
    readonly budgetRatio: number;
    readonly minPerSecond: number;
  };
  readonly timeouts: {
    readonly connect: number;
    readonly firstByte: number;
    readonly total: number;
    readonly clientHeaders: number;
    readonly clientRequest: number;
    readonly clientIdle: number;
    readonly upstreamIdle: number;
  };
  readonly limits: {
    readonly maxConnections: number;
    readonly backendConnections: number;
    readonly maxHeaderSize: number;
  };
  readonly trustedProxies: readonly string[];
  readonly ewma: { readonly decay: number; readonly prior: number; readonly failurePenalty: number };
  readonly loadReport: { readonly weight: number; readonly decay: number };
  readonly deadline: { readonly header: string; readonly max: number; readonly margin: number };
  readonly shutdown: { readonly delay: number | undefined; readonly drainTimeout: number };
}

const SPEC_BY_KEY = new Map(OPTION_TABLE.map((spec) => [spec.key, spec]));
const OPTION_KEYS = OPTION_TABLE.map((spec) => spec.key);

/**
 * Validates and freezes a configuration. `file` is the parsed config file or the options object
 * (nested); `flags` holds values from the command line by dotted key and wins over `file`.
 * Throws `RK_ERR_INVALID_CONFIG` with one line naming the first bad key.
 */
export function resolveBalancerConfig(
  file: unknown = {},
  flags: ReadonlyMap<string, unknown> = new Map(),
): BalancerConfig {
  const fromFile = flattenConfig(file);
  const config: Record<string, unknown> = {};
  const given = (key: string): boolean => flags.has(key) || fromFile.get(key) !== undefined;
  for (const spec of OPTION_TABLE) {
    const raw = flags.has(spec.key) ? flags.get(spec.key) : fromFile.get(spec.key);
    if (raw === undefined && spec.default === undefined) {
      setPath(config, spec.key, undefined);
      continue;
    }
    const value = readOptionValue(spec, raw ?? spec.default);
    setPath(config, spec.key, value);
  }
  const health = config.healthCheck as { interval: number; timeout: number };
  // A shorter interval than the default timeout shortens the timeout too, unless one is given.
  if (!given('healthCheck.timeout')) health.timeout = Math.min(health.timeout, health.interval);
  const resolved = config as unknown as BalancerConfig;
  crossCheck(resolved);
  return deepFreeze(resolved);
}

/** The config file's nested keys as dotted ones; unknown keys are refused with a suggestion. */
export function flattenConfig(file: unknown): Map<string, unknown> {
  const flat = new Map<string, unknown>();
  if (file === undefined || file === null) return flat;
  if (typeof file !== 'object' || Array.isArray(file))
    throw configError('the configuration must be a mapping of keys');
  const walk = (object: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(object)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (SPEC_BY_KEY.has(key)) {
        flat.set(key, value);
      } else if (isSection(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, key);
      } else {
        const guess = closestKey(key);
        throw configError(
          `unknown config key ${JSON.stringify(key.slice(0, 60))}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`,
        );
      }
    }
  };
  walk(file as Record<string, unknown>, '');
  return flat;
}

function isSection(key: string): boolean {
  return OPTION_TABLE.some((spec) => spec.key.startsWith(`${key}.`));
}

function crossCheck(config: BalancerConfig): void {
  if (config.healthCheck.timeout > config.healthCheck.interval) {
    throw configError(
      `healthCheck.timeout must be at most healthCheck.interval (${config.healthCheck.interval} ms)`,
    );
  }
  if (config.outlier.maxEjectionTime < config.outlier.baseEjectionTime) {
    throw configError(
      `outlier.maxEjectionTime must be at least outlier.baseEjectionTime (${config.outlier.baseEjectionTime} ms)`,
    );
  }
  if (!isPrime(config.maglevTableSize)) throw configError('maglevTableSize must be a prime number');
  if (config.dns.maxTtl < config.dns.minTtl) {
    throw configError(`dns.maxTtl must be at least dns.minTtl (${config.dns.minTtl} ms)`);
  }
  const resolver = config.dns.resolver;
  if (resolver !== undefined && (isIP(resolver.host) === 0 || resolver.port === 0)) {
    throw configError('dns.resolver must be an IP address and a port, such as 10.0.0.10:53');
  }
  const sources = [
    config.backends.length > 0 ? 'backends' : undefined,
    config.dns.name === undefined ? undefined : 'dns.name',
    config.kubernetes.service === undefined ? undefined : 'kubernetes.service',
  ].filter((source) => source !== undefined);
  if (sources.length > 1) throw configError(`give one discovery source, not ${sources.join(' and ')}`);
  if (config.adminToken === undefined && !isLoopback(config.admin.host)) {
    throw configError('adminToken is required when the admin listener is not on loopback');
  }
  const seen = new Set<string>();
  for (const backend of config.backends) {
    if (seen.has(backend.url)) throw configError(`backends lists ${backend.url} twice`);
    seen.add(backend.url);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function configError(message: string): BalancerError {
  return new BalancerError(BalancerErrorCodes.INVALID_CONFIG, message);
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function closestKey(key: string): string | undefined {
  return closest(key, OPTION_KEYS, 4);
}

/** The spec of a dotted key. @internal */
export function optionSpec(key: string): OptionSpec | undefined {
  return SPEC_BY_KEY.get(key);
}
