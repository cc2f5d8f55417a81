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
  /** Adds the load report header (`endpoint-load-metrics`) to every response, for load balancers. */
  readonly loadReport: boolean;
}

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
    loadReport: flag(env, 'LOAD_REPORT'),
  };
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
): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) {
    throw new ConfigError(
      `${key} must be a whole number from 0 to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return Number(raw);
}
