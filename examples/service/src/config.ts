import { hostname } from 'node:os';
import { isHttpOrigin } from '@readykit/balancer';

/** The example service's settings, all from the environment. */
export interface ServiceConfig {
  readonly port: number;
  readonly host: string | undefined;
  /** How long the simulated connection pool takes to warm. */
  readonly warmupMs: number;
  /** Overrides the kit's shutdown delay (5 s in Kubernetes, 0 elsewhere). */
  readonly shutdownDelayMs: number | undefined;
  /** Added to every /api response. */
  readonly latencyMs: number;
  /** SIGUSR2 toggles this much more latency on every /api response (demos of a degraded instance); unset: SIGUSR2 is not handled. */
  readonly toggleLatencyMs: number | undefined;
  /** Base URL of the inventory service `/api/items/:id/stock` calls (another instance of this service). */
  readonly inventoryUrl: URL | undefined;
  /**
   * Backend origins of the inventory service; set (with INVENTORY_URL as the logical origin), each
   * call goes to one of them through readykit's balanced dispatcher instead of to INVENTORY_URL.
   */
  readonly inventoryBackends: readonly string[] | undefined;
  /** Time between two readiness checks of each inventory backend; unset: the balancer's default. */
  readonly inventoryCheckIntervalMs: number | undefined;
  /** Named in `/api/stock/:id` answers, so callers see which instance answered. */
  readonly instanceName: string;
  /** Adds the load report header (`endpoint-load-metrics`) to every response, for load balancers. */
  readonly loadReport: boolean;
}

/** More backends than this is a typo or a list meant for discovery. */
const MAX_BACKENDS = 100;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws a ConfigError naming the variable. */
export function readConfig(env: Readonly<Record<string, string | undefined>>): ServiceConfig {
  return {
    port: integer(env, 'PORT', 3000, 65_535),
    host: env.HOST === undefined || env.HOST === '' ? undefined : env.HOST,
    warmupMs: integer(env, 'WARMUP_MS', 2000, 600_000),
    shutdownDelayMs:
      env.SHUTDOWN_DELAY_MS === undefined ? undefined : integer(env, 'SHUTDOWN_DELAY_MS', 0, 600_000),
    latencyMs: integer(env, 'LATENCY_MS', 0, 60_000),
    toggleLatencyMs:
      env.TOGGLE_LATENCY_MS === undefined || env.TOGGLE_LATENCY_MS === ''
        ? undefined
        : integer(env, 'TOGGLE_LATENCY_MS', 0, 60_000),
    inventoryUrl: httpUrl(env, 'INVENTORY_URL'),
    inventoryBackends: backendList(env, 'INVENTORY_BACKENDS', 'INVENTORY_URL'),
    inventoryCheckIntervalMs:
      env.INVENTORY_CHECK_INTERVAL_MS === undefined || env.INVENTORY_CHECK_INTERVAL_MS === ''
        ? undefined
        : integer(env, 'INVENTORY_CHECK_INTERVAL_MS', 0, 600_000, 50),
    instanceName: instanceName(env, 'INSTANCE_NAME'),
    loadReport: flag(env, 'LOAD_REPORT'),
  };
}

/** Comma-separated http(s) origins; only meaningful with the logical origin in `originKey`. */
function backendList(
  env: Readonly<Record<string, string | undefined>>,
  key: string,
  originKey: string,
): readonly string[] | undefined {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (env[originKey] === undefined || env[originKey] === '') {
    throw new ConfigError(`${key} needs ${originKey}, the logical origin the backends serve`);
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.length > MAX_BACKENDS) {
    throw new ConfigError(`${key} must list at most ${MAX_BACKENDS} URLs, got ${entries.length}`);
  }
  return entries.map((entry) => {
    const url = URL.parse(entry);
    if (!isHttpOrigin(url)) {
      throw new ConfigError(
        `${key} must be comma-separated http(s) origins (no path), got ${JSON.stringify(entry.slice(0, 40))}`,
      );
    }
    return url.origin;
  });
}

function instanceName(env: Readonly<Record<string, string | undefined>>, key: string): string {
  const raw = env[key];
  if (raw === undefined || raw === '') return hostname();
  if (!/^[\w.:-]{1,100}$/.test(raw)) {
    throw new ConfigError(
      `${key} must be 1-100 letters, digits, ".", ":", "-" or "_", got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return raw;
}

function flag(env: Readonly<Record<string, string | undefined>>, key: string): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(`${key} must be true or false, got ${JSON.stringify(raw.slice(0, 20))}`);
}

function httpUrl(env: Readonly<Record<string, string | undefined>>, key: string): URL | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const url = URL.parse(raw);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${key} must be an http(s) URL, got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return url;
}

function integer(
  env: Readonly<Record<string, string | undefined>>,
  key: string,
  fallback: number,
  max: number,
  min = 0,
): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max || Number(raw) < min) {
    throw new ConfigError(
      `${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return Number(raw);
}
