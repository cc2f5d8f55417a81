import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fn, invalidOption, knownKeys, plainObject } from '@readykit/health/validate';
import { ErrorCodes, ReadykitError } from './errors.ts';
import { writePlain } from './metrics-http.ts';

/**
 * Answers one request and returns true, or returns false, touching nothing, so the next
 * handler is tried. `metrics.handle` and the handler of `createProfiling()` are two.
 */
export type ManagementHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Loopback only unless asked: management routes (metrics, profiling) are not for the public. */
export const DEFAULT_MANAGEMENT_HOST = '127.0.0.1';
/** How long `close()` lets requests in flight finish before dropping their connections, in ms. */
export const DEFAULT_CLOSE_GRACE = 2_000;
/** A client gets this long to send its request headers, in ms. */
export const MANAGEMENT_HEADERS_TIMEOUT = 10_000;
/** A client gets this long to send its whole request, in ms (not the time to answer it). */
export const MANAGEMENT_REQUEST_TIMEOUT = 15_000;
/** An idle keep-alive connection is closed after this long, in ms. */
export const MANAGEMENT_KEEP_ALIVE_TIMEOUT = 5_000;

export interface ManagementServerOptions {
  /** TCP port to listen on; `0` picks a free one (see the result of `listen()`). @default none: required */
  port: number;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** Tried in order for every request; the first to return true answers it, else 404. @default none: required */
  handlers: readonly ManagementHandler[];
  /** How long `close()` waits for requests in flight before dropping their connections, in ms. @default 2000 */
  closeGrace?: number;
}

export interface ResolvedManagementServerOptions {
  readonly port: number;
  readonly host: string;
  readonly handlers: readonly ManagementHandler[];
  readonly closeGrace: number;
}

const OPTION_KEYS = ['port', 'host', 'handlers', 'closeGrace'] as const satisfies ReadonlyArray<
  keyof ManagementServerOptions
>;

/** Validates once; a frozen copy that never aliases the caller's objects. */
export function resolveManagementServerOptions(
  options: ManagementServerOptions,
): ResolvedManagementServerOptions {
  knownKeys('options', plainObject('options', options), OPTION_KEYS);
  const { port, host, handlers, closeGrace } = options;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidOption('port', 'an integer from 0 to 65535', port);
  }
  if (host !== undefined && (typeof host !== 'string' || host === '' || host.length > 255)) {
    throw invalidOption('host', 'a host name or IP address', host);
  }
  if (!Array.isArray(handlers)) throw invalidOption('handlers', 'an array of functions', handlers);
  const copy = handlers.map((h: unknown, i) => fn<ManagementHandler>(`handlers[${i}]`, h));
  if (
    closeGrace !== undefined &&
    (typeof closeGrace !== 'number' || !Number.isFinite(closeGrace) || closeGrace < 0)
  ) {
    throw invalidOption('closeGrace', 'a non-negative number of milliseconds', closeGrace);
  }
  return Object.freeze({
    port,
    host: host ?? DEFAULT_MANAGEMENT_HOST,
    handlers: Object.freeze(copy),
    closeGrace: closeGrace ?? DEFAULT_CLOSE_GRACE,
  });
}

/**
 * A small node:http listener for management routes, so `/metrics` and profiling stay off the
 * public listener. No framework: each request goes to the handlers in order, 404 if none
 * takes it. Slow clients are cut off by header and request timeouts; a handler that throws
 * gets a bare 500 and a process warning, never a stack trace to the client.
 */
export class ManagementServer {
  readonly options: ResolvedManagementServerOptions;
  readonly #server: Server;
  #listening: Promise<{ port: number }> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ManagementServerOptions) {
    this.options = resolveManagementServerOptions(options);
    this.#server = createServer(
      {
        headersTimeout: MANAGEMENT_HEADERS_TIMEOUT,
        requestTimeout: MANAGEMENT_REQUEST_TIMEOUT,
        keepAliveTimeout: MANAGEMENT_KEEP_ALIVE_TIMEOUT,
      },
      (req, res) => this.#dispatch(req, res),
    );
  }

  /** Starts listening; resolves with the bound port. A second call returns the same promise. */
  listen(): Promise<{ port: number }> {
    if (this.#closing !== undefined) {
      return Promise.reject(new ReadykitError(ErrorCodes.LIFECYCLE, 'cannot listen once closed'));
    }
    this.#listening ??= new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.options.port, this.options.host, () => {
        this.#server.off('error', onError);
        resolve({ port: (this.#server.address() as AddressInfo).port });
      });
    });
    return this.#listening;
  }

  /**
   * Stops accepting connections and closes idle ones at once; requests in flight get
   * `closeGrace` ms, then their connections are dropped. Idempotent: every call returns the
   * same promise, which resolves once the listener is closed.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server.listening) {
        this.#server.closeAllConnections();
        resolve();
        return;
      }
      const grace = setTimeout(() => this.#server.closeAllConnections(), this.options.closeGrace);
      grace.unref();
      this.#server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const head = req.method === 'HEAD';
    try {
      for (const handler of this.options.handlers) {
        const answered: unknown = handler(req, res);
        if (isThenable(answered)) {
          answered.then(undefined, (error: unknown) => failed(res, head, error));
          return;
        }
        if (answered) return;
      }
      writePlain(res, 404, 'not found\n', head);
    } catch (error) {
      failed(res, head, error);
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function failed(res: ServerResponse, head: boolean, error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  process.emitWarning(
    `readykit management: a handler failed: ${text.split('\n', 1)[0]!.slice(0, 200)}`,
    'ReadykitWarning',
  );
  if (res.headersSent) res.destroy();
  else writePlain(res, 500, 'internal error\n', head);
}
