import { Client } from 'undici';
import { invalidConfig } from '../errors.ts';
import { isHttpOrigin } from '../http-origin.ts';
import { rangeOption } from './range-option.ts';
import type { CheckOutcome } from './readiness-tracker.ts';

/** How one backend's readiness is probed. */
export interface ActiveCheckOptions {
  /** The backend, e.g. `http://10.0.0.7:3000` (no path, query or credentials). */
  origin: string;
  /** Readiness path, requested with `GET`. @default '/readyz' */
  path?: string;
  /** Time from the end of one probe to the start of the next, jittered by ±10 %, in ms. @default 2000 */
  intervalMs?: number;
  /** A probe without a status line by then fails, in ms. @default 1000 */
  timeoutMs?: number;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  rng?: () => number;
  /** Extra request headers, e.g. `host` for a virtual host. `user-agent` is `readykit-balancer` unless given. */
  headers?: Readonly<Record<string, string>>;
}

/** {@link ActiveCheckOptions} with defaults applied, validated and frozen. */
export interface ResolvedActiveCheckOptions {
  readonly origin: string;
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rng: () => number;
  /** Lowercase names, `user-agent` included. */
  readonly headers: Readonly<Record<string, string>>;
}

/** HAProxy's `inter`. */
export const DEFAULT_CHECK_INTERVAL_MS = 2000;
/** Half the interval, and like the kubelet's probe timeout. */
export const DEFAULT_CHECK_TIMEOUT_MS = 1000;
export const DEFAULT_CHECK_PATH = '/readyz';
/** Fraction of the interval a probe is moved by at random, either way. */
export const CHECK_JITTER = 0.1;
const USER_AGENT = 'readykit-balancer';
// A readiness body is a few lines of text; anything longer is read no further.
const MAX_BODY_BYTES = 4096;
const DAY_MS = 86_400_000;
const PATH = /^\/[\x21\x22\x24-\x7e]{0,1023}$/; // visible ASCII, no '#'
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,4096}$/;
const READY: CheckOutcome = Object.freeze({ kind: 'ready' });
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Validates `options` once; messages name `<prefix>.<option>`. */
export function resolveActiveCheckOptions(
  options: ActiveCheckOptions,
  prefix = 'healthCheck',
): ResolvedActiveCheckOptions {
  const parsed = typeof options.origin === 'string' ? URL.parse(options.origin) : null;
  if (!isHttpOrigin(parsed)) {
    throw invalidConfig(`${prefix}.origin`, 'an http(s) origin such as http://10.0.0.7:3000', options.origin);
  }
  const path = options.path ?? DEFAULT_CHECK_PATH;
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw invalidConfig(`${prefix}.path`, 'a URL path starting with "/", without spaces or "#"', path);
  }
  const rng = options.rng ?? Math.random;
  if (typeof rng !== 'function') throw invalidConfig(`${prefix}.rng`, 'a function', rng);
  // No prototype: a header named `__proto__` is a header like any other.
  const headers: Record<string, string> = Object.create(null);
  headers['user-agent'] = USER_AGENT;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw invalidConfig(`${prefix}.headers`, 'HTTP header names', name);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw invalidConfig(`${prefix}.headers.${name}`, 'a header value without line breaks', value);
    }
    headers[name.toLowerCase()] = value;
  }
  return Object.freeze({
    origin: parsed.origin,
    path,
    intervalMs: rangeOption(`${prefix}.intervalMs`, options.intervalMs, DEFAULT_CHECK_INTERVAL_MS, {
      min: 50,
      max: DAY_MS,
      unit: 'ms',
    }),
    timeoutMs: rangeOption(`${prefix}.timeoutMs`, options.timeoutMs, DEFAULT_CHECK_TIMEOUT_MS, {
      min: 10,
      max: DAY_MS,
      unit: 'ms',
    }),
    rng,
    headers: Object.freeze(headers),
  });
}

/**
 * The wait before the next probe: `intervalMs` moved by up to ±{@link CHECK_JITTER} at random,
 * so the balancers of a fleet, started together, do not probe a backend in lockstep.
 */
export function probeDelay(intervalMs: number, rng: () => number): number {
  return intervalMs * (1 + CHECK_JITTER * (2 * rng() - 1));
}

/**
 * Probes one backend's readiness: `GET <origin><path>` at once on {@link start}, then
 * {@link probeDelay} after each probe ends, so at most one probe is in flight and a slow
 * backend is never probed faster than it answers. Each outcome goes to `onOutcome`: 2xx is
 * `ready`, any other status `not-ready`, a timeout or a connection error `failed`.
 *
 * Probes travel over their own keep-alive connection (an undici `Client` per backend), so
 * they never queue behind proxied traffic and do not pay a handshake each time. The status
 * line decides the outcome; the body is read and discarded, at most 4 KB of it (a longer one
 * closes the connection). An exception thrown by `onOutcome` surfaces as an unhandled
 * rejection; probing goes on.
 */
export class ActiveHealthCheck {
  readonly options: ResolvedActiveCheckOptions;
  readonly #onOutcome: (outcome: CheckOutcome) => void;
  readonly #client: Client;
  #started = false;
  #closing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: AbortController | undefined;

  constructor(options: ActiveCheckOptions, onOutcome: (outcome: CheckOutcome) => void) {
    this.options = resolveActiveCheckOptions(options);
    if (typeof onOutcome !== 'function') throw invalidConfig('onOutcome', 'a function', onOutcome);
    this.#onOutcome = onOutcome;
    this.#client = new Client(this.options.origin, {
      connectTimeout: this.options.timeoutMs,
      // Our own timer bounds the whole probe; these only stop a socket from lingering.
      headersTimeout: this.options.timeoutMs + 1000,
      bodyTimeout: this.options.timeoutMs + 1000,
      pipelining: 1,
    });
  }

  /** Probes now, then on the interval until {@link close}. Calling it again does nothing. */
  start(): void {
    if (this.#started || this.#closing !== undefined) return;
    this.#started = true;
    void this.#cycle();
  }

  /** Stops probing: clears the timer, abandons a probe in flight unreported, closes the connection. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      clearTimeout(this.#timer);
      this.#inFlight?.abort();
      this.#closing = this.#client.destroy();
    }
    return this.#closing;
  }

  readonly #onTimer = (): void => {
    void this.#cycle();
  };

  async #cycle(): Promise<void> {
    const outcome = await this.#probe();
    if (this.#closing !== undefined) return;
    this.#timer = setTimeout(this.#onTimer, probeDelay(this.options.intervalMs, this.options.rng));
    this.#timer.unref();
    this.#onOutcome(outcome);
  }

  async #probe(): Promise<CheckOutcome> {
    const controller = new AbortController();
    this.#inFlight = controller;
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    timer.unref();
    const { signal } = controller;
    try {
      const { statusCode, body } = await this.#client.request({
        method: 'GET',
        path: this.options.path,
        headers: this.options.headers,
        signal,
      });
      // The answer is in; a body cut short by the limit or the timeout does not change it.
      await body.dump({ limit: MAX_BODY_BYTES, signal }).catch(() => {});
      return statusCode >= 200 && statusCode < 300 ? READY : { kind: 'not-ready', status: statusCode };
    } catch (error) {
      return { kind: 'failed', reason: signal.aborted ? 'timeout' : failureReason(error) };
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }
}

/** A short, stable reason: the error's code (`ECONNREFUSED`, `UND_ERR_SOCKET`) when it has one. */
function failureReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return TIMEOUTS.has(code) ? 'timeout' : code;
  return error instanceof Error ? error.message : String(error);
}
