import type { BackoffPolicy } from './backoff.ts';
import { ErrorCodes, invalidOption, ReadykitError } from './errors.ts';
import type { CheckFunction } from './health-check.ts';
import type { WarmupTask } from './readiness-gate.ts';
import { bool, durationMs, fn, knownKeys, name, plainObject, positiveMs, urlPath } from './validate.ts';

/** Kubernetes' probe timeout is 1 s: a check must answer well inside it. */
export const DEFAULT_CHECK_TIMEOUT = 500;
export const DEFAULT_LIVENESS_PATHS: readonly string[] = Object.freeze(['/healthz', '/livez']);
export const DEFAULT_READINESS_PATHS: readonly string[] = Object.freeze(['/readyz']);
export const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGTERM', 'SIGINT'] as const);
/** Time for EndpointSlice removal to reach every kube-proxy and ingress before we stop accepting. */
export const DEFAULT_KUBERNETES_SHUTDOWN_DELAY = 5_000;
export const DEFAULT_DRAIN_TIMEOUT = 10_000;
export const DEFAULT_HOOK_TIMEOUT = 3_000;
/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_PERIOD = 30_000;
export const DEFAULT_EVENT_LOOP_THRESHOLD = 1_000;
/** One default kubelet probe period: a single stall fails at most a probe or two, never three in a row. */
export const DEFAULT_EVENT_LOOP_WINDOW = 10_000;
export const DEFAULT_WARMUP_RETRY: BackoffPolicy = Object.freeze({ initialDelay: 200, maxDelay: 10_000 });
export const DEFAULT_WARMUP_ATTEMPT_TIMEOUT = 30_000;

export interface CheckOptions {
  /** The check: resolve to pass; throw, reject or resolve `false` to fail. */
  check: CheckFunction;
  /** @default 500 (ms), or `checkTimeout` */
  timeout?: number;
  /** Run in the background every `interval` ms and answer probes from the last result. @default 0 (run per probe, single flight) */
  interval?: number;
  /** A non-critical check reports `warn` on failure and does not fail the probe. @default true */
  critical?: boolean;
}

export interface GateOptions {
  /** Opens the gate when it resolves; retried with backoff when it rejects. */
  warmup?: WarmupTask;
  /** Per-attempt timeout in ms; 0 for none. @default 30000 */
  attemptTimeout?: number;
  /** @default { initialDelay: 200, maxDelay: 10000 } */
  retry?: Partial<BackoffPolicy>;
}

export type ShutdownHook = () => unknown;

export interface HookOptions {
  /** Releases a resource (pool, exporter, queue consumer) after requests have drained. */
  hook: ShutdownHook;
  /** @default shutdown.hookTimeout */
  timeout?: number;
}

export interface ShutdownOptions {
  /** Signals that start graceful shutdown; `[]` to handle none. @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** Keep serving this long after readiness turns 503. @default 5000 inside Kubernetes, 0 elsewhere */
  delay?: number;
  /** Longest wait for in-flight requests once the server stops accepting. @default 10000 */
  drainTimeout?: number;
  /** Timeout of each cleanup hook unless the hook sets its own. @default 3000 */
  hookTimeout?: number;
  /** The pod's terminationGracePeriodSeconds, in ms: the whole timeline must fit. @default 30000 */
  terminationGracePeriod?: number;
  /** Call `process.exit()` when the timeline ends (0 on success, 1 when a budget was exceeded). @default true */
  exit?: boolean;
}

export interface HealthOptions {
  /** Readiness checks by name. */
  readiness?: Record<string, CheckFunction | CheckOptions>;
  /** Liveness checks by name. Keep them about this process only: a dependency outage must not restart pods. */
  liveness?: Record<string, CheckFunction | CheckOptions>;
  /** Warmup gates: names opened by `gate(name).open()`, or a map of names to warmup tasks. */
  gates?: readonly string[] | Record<string, WarmupTask | GateOptions | null>;
  /** Readiness stays 503 for at least this long after the server starts listening. @default 0 */
  minWarmTime?: number;
  /** Default timeout of every check, in ms. @default 500 */
  checkTimeout?: number;
  /** Probe paths. @default { liveness: ['/healthz', '/livez'], readiness: ['/readyz'] } */
  paths?: { liveness?: readonly string[]; readiness?: readonly string[] };
  /** The built-in liveness check on event loop stalls; `false` to turn it off. @default { threshold: 1000, window: 10000 } */
  eventLoop?: false | { threshold?: number; window?: number };
  /** The shutdown timeline: signals, delay, drain, hook timeouts, grace period, exit. */
  shutdown?: ShutdownOptions;
  /** Cleanup hooks run in order after draining, each with its own timeout. */
  hooks?: Record<string, ShutdownHook | HookOptions>;
  /** Print why a check failed in probe output; `false` prints "reason withheld". @default true */
  exposeReasons?: boolean;
  /** Environment used to detect Kubernetes (KUBERNETES_SERVICE_HOST). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Random source for warmup backoff jitter (tests pass a seeded one). @default Math.random */
  random?: () => number;
}

const HEALTH_OPTION_KEYS = [
  'readiness',
  'liveness',
  'gates',
  'minWarmTime',
  'checkTimeout',
  'paths',
  'eventLoop',
  'shutdown',
  'hooks',
  'exposeReasons',
  'env',
  'random',
] as const satisfies ReadonlyArray<keyof HealthOptions>;

export interface ResolvedCheck {
  readonly name: string;
  readonly check: CheckFunction;
  readonly timeout: number;
  readonly interval: number;
  readonly critical: boolean;
}

export interface ResolvedGate {
  readonly name: string;
  readonly warmup: WarmupTask | undefined;
  readonly attemptTimeout: number;
  readonly retry: BackoffPolicy;
}

export interface ResolvedHook {
  readonly name: string;
  readonly hook: ShutdownHook;
  readonly timeout: number;
}

export interface ResolvedShutdown {
  readonly signals: readonly NodeJS.Signals[];
  readonly delay: number;
  readonly drainTimeout: number;
  readonly hookTimeout: number;
  readonly terminationGracePeriod: number;
  readonly exit: boolean;
}

export interface ResolvedHealthOptions {
  readonly readiness: readonly ResolvedCheck[];
  readonly liveness: readonly ResolvedCheck[];
  readonly gates: readonly ResolvedGate[];
  readonly minWarmTime: number;
  readonly checkTimeout: number;
  readonly paths: { readonly liveness: readonly string[]; readonly readiness: readonly string[] };
  readonly eventLoop: false | { readonly threshold: number; readonly window: number };
  readonly shutdown: ResolvedShutdown;
  readonly hooks: readonly ResolvedHook[];
  readonly exposeReasons: boolean;
  readonly random: () => number;
}

/** Validates once, at construction; returns a deep-frozen copy that never aliases the caller's objects. */
export function resolveHealthOptions(options: HealthOptions = {}): ResolvedHealthOptions {
  knownKeys('options', plainObject('options', options), HEALTH_OPTION_KEYS);
  const checkTimeout = positiveMs('checkTimeout', options.checkTimeout, DEFAULT_CHECK_TIMEOUT);
  const env = options.env ?? process.env;
  const shutdown = resolveShutdown(options.shutdown ?? {}, env);
  const resolved: ResolvedHealthOptions = {
    readiness: resolveChecks('readiness', options.readiness, checkTimeout),
    liveness: resolveChecks('liveness', options.liveness, checkTimeout),
    gates: resolveGates(options.gates),
    minWarmTime: durationMs('minWarmTime', options.minWarmTime, 0),
    checkTimeout,
    paths: resolvePaths(options.paths),
    eventLoop: resolveEventLoop(options.eventLoop),
    shutdown,
    hooks: resolveHooks(options.hooks, shutdown.hookTimeout),
    exposeReasons: bool('exposeReasons', options.exposeReasons, true),
    random: options.random === undefined ? Math.random : fn<() => number>('random', options.random),
  };
  uniqueNames('readiness', [...resolved.readiness.map((c) => c.name), ...resolved.gates.map((g) => g.name)]);
  assertShutdownBudget(shutdown, resolved.hooks);
  return deepFreeze(resolved);
}

export function resolveCheck(
  parent: string,
  checkName: string,
  value: unknown,
  checkTimeout: number,
): ResolvedCheck {
  name(parent, checkName);
  const path = `${parent}.${checkName}`;
  if (typeof value === 'function') {
    return {
      name: checkName,
      check: value as CheckFunction,
      timeout: checkTimeout,
      interval: 0,
      critical: true,
    };
  }
  const o = plainObject(path, value);
  knownKeys(path, o, ['check', 'timeout', 'interval', 'critical']);
  return {
    name: checkName,
    check: fn<CheckFunction>(`${path}.check`, o.check),
    timeout: positiveMs(`${path}.timeout`, o.timeout, checkTimeout),
    interval: durationMs(`${path}.interval`, o.interval, 0),
    critical: bool(`${path}.critical`, o.critical, true),
  };
}

function resolveChecks(path: string, value: unknown, checkTimeout: number): ResolvedCheck[] {
  if (value === undefined) return [];
  return Object.entries(plainObject(path, value)).map(([key, v]) => resolveCheck(path, key, v, checkTimeout));
}

export function resolveGate(parent: string, gateName: string, value: unknown): ResolvedGate {
  name(parent, gateName);
  const path = `${parent}.${gateName}`;
  if (value === undefined || value === null) {
    return { name: gateName, warmup: undefined, attemptTimeout: 0, retry: DEFAULT_WARMUP_RETRY };
  }
  if (typeof value === 'function') {
    return {
      name: gateName,
      warmup: value as WarmupTask,
      attemptTimeout: DEFAULT_WARMUP_ATTEMPT_TIMEOUT,
      retry: DEFAULT_WARMUP_RETRY,
    };
  }
  const o = plainObject(path, value);
  knownKeys(path, o, ['warmup', 'attemptTimeout', 'retry']);
  const retry = o.retry === undefined ? {} : plainObject(`${path}.retry`, o.retry);
  knownKeys(`${path}.retry`, retry, ['initialDelay', 'maxDelay']);
  const initialDelay = positiveMs(
    `${path}.retry.initialDelay`,
    retry.initialDelay,
    DEFAULT_WARMUP_RETRY.initialDelay,
  );
  const maxDelay = positiveMs(`${path}.retry.maxDelay`, retry.maxDelay, DEFAULT_WARMUP_RETRY.maxDelay);
  if (maxDelay < initialDelay)
    throw invalidOption(`${path}.retry.maxDelay`, `>= initialDelay (${initialDelay})`, maxDelay);
  return {
    name: gateName,
    warmup: o.warmup === undefined ? undefined : fn<WarmupTask>(`${path}.warmup`, o.warmup),
    attemptTimeout: durationMs(`${path}.attemptTimeout`, o.attemptTimeout, DEFAULT_WARMUP_ATTEMPT_TIMEOUT),
    retry: { initialDelay, maxDelay },
  };
}

function resolveGates(value: unknown): ResolvedGate[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map((v) => resolveGate('gates', v as string, undefined));
  return Object.entries(plainObject('gates', value)).map(([key, v]) => resolveGate('gates', key, v));
}

function resolvePaths(value: HealthOptions['paths']): ResolvedHealthOptions['paths'] {
  const o = value === undefined ? {} : plainObject('paths', value);
  knownKeys('paths', o, ['liveness', 'readiness']);
  const list = (key: 'liveness' | 'readiness', fallback: readonly string[]): string[] => {
    const v = o[key];
    if (v === undefined) return [...fallback];
    if (!Array.isArray(v) || v.length === 0)
      throw invalidOption(`paths.${key}`, 'a non-empty array of paths', v);
    return v.map((p, i) => urlPath(`paths.${key}[${i}]`, p));
  };
  const paths = {
    liveness: list('liveness', DEFAULT_LIVENESS_PATHS),
    readiness: list('readiness', DEFAULT_READINESS_PATHS),
  };
  const all = [...paths.liveness, ...paths.readiness];
  const twice = all.find((p, i) => all.indexOf(p) !== i);
  if (twice !== undefined) throw invalidOption('paths', 'distinct paths', twice);
  return paths;
}

function resolveEventLoop(value: HealthOptions['eventLoop']): ResolvedHealthOptions['eventLoop'] {
  if (value === false) return false;
  const o = value === undefined ? {} : plainObject('eventLoop', value);
  knownKeys('eventLoop', o, ['threshold', 'window']);
  return {
    threshold: positiveMs('eventLoop.threshold', o.threshold, DEFAULT_EVENT_LOOP_THRESHOLD),
    window: positiveMs('eventLoop.window', o.window, DEFAULT_EVENT_LOOP_WINDOW),
  };
}

function resolveShutdown(
  value: ShutdownOptions,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedShutdown {
  const o = plainObject('shutdown', value);
  knownKeys('shutdown', o, [
    'signals',
    'delay',
    'drainTimeout',
    'hookTimeout',
    'terminationGracePeriod',
    'exit',
  ]);
  const signals = o.signals ?? DEFAULT_SIGNALS;
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== 'string' || !/^SIG[A-Z0-9]+$/.test(s))) {
    throw invalidOption('shutdown.signals', 'an array of signal names like "SIGTERM"', signals);
  }
  const inKubernetes = typeof env.KUBERNETES_SERVICE_HOST === 'string' && env.KUBERNETES_SERVICE_HOST !== '';
  return {
    signals: [...new Set(signals as NodeJS.Signals[])],
    delay: durationMs('shutdown.delay', o.delay, inKubernetes ? DEFAULT_KUBERNETES_SHUTDOWN_DELAY : 0),
    drainTimeout: durationMs('shutdown.drainTimeout', o.drainTimeout, DEFAULT_DRAIN_TIMEOUT),
    hookTimeout: positiveMs('shutdown.hookTimeout', o.hookTimeout, DEFAULT_HOOK_TIMEOUT),
    terminationGracePeriod: positiveMs(
      'shutdown.terminationGracePeriod',
      o.terminationGracePeriod,
      DEFAULT_TERMINATION_GRACE_PERIOD,
    ),
    exit: bool('shutdown.exit', o.exit, true),
  };
}

export function resolveHook(
  parent: string,
  hookName: string,
  value: unknown,
  hookTimeout: number,
): ResolvedHook {
  name(parent, hookName);
  const path = `${parent}.${hookName}`;
  if (typeof value === 'function')
    return { name: hookName, hook: value as ShutdownHook, timeout: hookTimeout };
  const o = plainObject(path, value);
  knownKeys(path, o, ['hook', 'timeout']);
  return {
    name: hookName,
    hook: fn<ShutdownHook>(`${path}.hook`, o.hook),
    timeout: positiveMs(`${path}.timeout`, o.timeout, hookTimeout),
  };
}

function resolveHooks(value: unknown, hookTimeout: number): ResolvedHook[] {
  if (value === undefined) return [];
  return Object.entries(plainObject('hooks', value)).map(([key, v]) =>
    resolveHook('hooks', key, v, hookTimeout),
  );
}

export function uniqueNames(path: string, names: readonly string[]): void {
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new ReadykitError(ErrorCodes.DUPLICATE_NAME, `${path}: the name "${twice}" is used twice`);
  }
}

/**
 * The timeline must end before Kubernetes sends SIGKILL: delay + drain + every hook's
 * timeout <= terminationGracePeriod. Refused here rather than discovered in production.
 */
export function assertShutdownBudget(shutdown: ResolvedShutdown, hooks: readonly ResolvedHook[]): void {
  const hooksMs = hooks.reduce((sum, h) => sum + h.timeout, 0);
  const total = shutdown.delay + shutdown.drainTimeout + hooksMs;
  if (total <= shutdown.terminationGracePeriod) return;
  const hookPart =
    hooks.length === 0 ? '' : ` + hooks (${hooks.map((h) => `${h.name} ${h.timeout}`).join(', ')} ms)`;
  throw new ReadykitError(
    ErrorCodes.SHUTDOWN_BUDGET,
    `shutdown.delay (${shutdown.delay} ms) + shutdown.drainTimeout (${shutdown.drainTimeout} ms)${hookPart} = ${total} ms` +
      ` does not fit shutdown.terminationGracePeriod (${shutdown.terminationGracePeriod} ms)`,
  );
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
