import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '@readykit/tracing';
import type { Dispatcher } from 'undici';
import type { Backend } from '../backend.ts';
import { BalancerErrorCodes } from '../errors.ts';
import { classifyFailure, type FailureKind } from './failure-kind.ts';
import type { ProxyEngine } from './proxy-engine.ts';
import { writeResponseHead } from './response-head.ts';

type Controller = Dispatcher.DispatchController;

// Thrown into an attempt to stop it and try another backend.
const RETRY = new Error('retrying on another backend');

/**
 * One client request on its way through the proxy: picks a backend, streams the request to it
 * and the response back with backpressure both ways, and on a retryable failure tries another
 * backend. Also undici's dispatch handler for the attempt in progress.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly #engine: ProxyEngine;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #retryable: boolean;
  readonly #context: RequestContext;
  readonly #headers: string[];
  // Where the per-attempt headers (trace span, remaining budget) start in #headers.
  readonly #hopStart: number;
  /** When the first-byte budget (the request's deadline) runs out, on performance.now(). */
  readonly #deadline: number;
  /** When the whole exchange must be over (`timeouts.total`); Infinity for no limit. */
  readonly #totalEnd: number;
  #backend: Backend | undefined;
  // The backend a retry goes to, chosen before deciding to retry.
  #next: Backend | undefined;
  #attemptOpen = false;
  #controller: Controller | undefined;
  #attemptStart = 0;
  #attempts = 0;
  #excluded: Set<string> | undefined;
  #responding = false;
  #done = false;
  // One timer at a time: the first-byte deadline until headers arrive, then the total timeout.
  // undici's own headersTimeout runs on a coarse (~1 s) clock, too loose for deadlines.
  #timer: NodeJS.Timeout | undefined;
  #status = 0;

  constructor(
    engine: ProxyEngine,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    headers: string[],
    context: RequestContext,
    budgetMs: number,
    hasBody: boolean,
    retryable: boolean,
  ) {
    this.#engine = engine;
    this.req = req;
    this.res = res;
    this.#retryable = retryable;
    this.#context = context;
    this.#headers = headers;
    this.#hopStart = headers.length;
    engine.writeHopHeaders(context, headers);
    const now = performance.now();
    this.#deadline = now + budgetMs;
    const total = engine.config.timeouts.total;
    this.#totalEnd = total > 0 ? now + total : Number.POSITIVE_INFINITY;
    this.#options = {
      path,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody ? req : null,
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    res.once('close', () => this.#clientClosed());
  }

  /** Sends the request to a backend; retries call it again with the failed backends excluded. */
  send(): void {
    const now = performance.now();
    const left = this.#deadline - now;
    if (left <= 0) {
      this.#fail('deadline', undefined);
      return;
    }
    const backend = this.#next ?? this.#engine.pick(this.req, now, this.#excluded);
    this.#next = undefined;
    if (backend === undefined) {
      this.#fail('no-backend', undefined);
      return;
    }
    this.#backend = backend;
    this.#attempts++;
    this.#attemptStart = now;
    this.#controller = undefined;
    this.#attemptOpen = true;
    backend.inFlight++;
    backend.stats.requests++;
    if (this.#attempts > 1) {
      // A retry is a new span with a smaller budget.
      this.#headers.length = this.#hopStart;
      this.#engine.writeHopHeaders(this.#context, this.#headers);
    }
    this.#arm(Math.min(this.#deadline, this.#totalEnd) - now);
    backend.pool.dispatch(this.#options, this);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#done) controller.abort(RETRY);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx: Node answers 100-continue to the client itself
    const backend = this.#backend!;
    const now = performance.now();
    backend.ewma.observe(now - this.#attemptStart, now);
    if (statusCode >= 500) {
      this.#engine.backends.recordFailure(backend, now);
      if (statusCode !== 500 && statusCode !== 501 && this.#mayRetry(now)) {
        backend.stats.retries++;
        this.#engine.retried(backend);
        controller.abort(RETRY);
        return;
      }
    } else {
      this.#engine.backends.recordSuccess(backend);
    }
    this.#status = statusCode;
    this.#responding = true;
    this.#arm(this.#totalEnd - now);
    writeResponseHead(this.res, statusCode, controller.rawHeaders, headers, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.#finishAttempt();
    this.#done = true;
    this.#disarm();
    this.res.end();
    const now = performance.now();
    this.#engine.observe(this.#backend!, this.#status, now - this.#attemptStart, now);
  }

  onResponseError(_controller: Controller, error: Error): void {
    const backend = this.#backend!;
    this.#finishAttempt();
    if (this.#done) return;
    const now = performance.now();
    if (error === RETRY) {
      this.send();
      return;
    }
    const kind = classifyFailure(error);
    if (kind === 'aborted') return; // our own abort: already answered
    if (kind !== 'timeout') {
      backend.ewma.observeFailure(now - this.#attemptStart, now);
      this.#engine.backends.recordFailure(backend, now);
    }
    if (this.#responding) {
      this.#cut();
      return;
    }
    if (
      (kind === 'connect' || (kind === 'reset' && this.#retryable)) &&
      this.#mayRetry(now, kind === 'connect')
    ) {
      backend.stats.retries++;
      this.#engine.retried(backend);
      this.send();
      return;
    }
    this.#fail(kind, backend);
  }

  /**
   * Whether to try another backend: the request is safe to repeat (or never reached the
   * backend), retries are left for it and in the budget, and another backend exists. The
   * backend is chosen here so a retry that has nowhere to go costs no budget.
   */
  #mayRetry(now: number, connectFailure = false): boolean {
    if (!(this.#retryable || (connectFailure && this.#options.body === null))) return false;
    if (this.#attempts > this.#engine.config.retry.maxRetries) return false;
    this.#excluded ??= new Set();
    const excluded = this.#excluded;
    excluded.add(this.#backend!.id);
    const next = this.#engine.pick(this.req, now, excluded);
    if (next === undefined || !this.#engine.tryRetry(now)) return false;
    this.#next = next;
    return true;
  }

  #finishAttempt(): void {
    if (!this.#attemptOpen) return;
    this.#attemptOpen = false;
    this.#backend!.inFlight--;
  }

  #fail(kind: FailureKind | 'no-backend' | 'deadline' | 'total', backend: Backend | undefined): void {
    this.#done = true;
    this.#disarm();
    if (kind === 'no-backend') {
      this.#engine.reject(this.res, 503, BalancerErrorCodes.NO_BACKEND, 'no backend available');
    } else if (kind === 'timeout' || kind === 'deadline' || kind === 'total') {
      this.#engine.reject(this.res, 504, BalancerErrorCodes.DEADLINE_EXCEEDED, 'gateway timeout');
    } else {
      this.#engine.reject(this.res, 502, BalancerErrorCodes.BACKEND_FAILED, 'bad gateway');
    }
    if (backend !== undefined) {
      const now = performance.now();
      this.#engine.observe(backend, 0, now - this.#attemptStart, now);
    }
  }

  #arm(delay: number): void {
    this.#disarm();
    if (delay === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(() => this.#timedOut(), Math.max(1, Math.ceil(delay)));
  }

  #disarm(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** The deadline passed before the headers (504), or the total timeout mid-body (cut). */
  #timedOut(): void {
    this.#timer = undefined;
    if (this.#done) return;
    if (!this.#responding) {
      const backend = this.#backend;
      // At least this slow: the estimate must know, or a hanging backend looks idle.
      if (backend !== undefined) {
        const now = performance.now();
        backend.ewma.observe(now - this.#attemptStart, now);
      }
      this.#fail('deadline', backend);
      this.#controller?.abort(RETRY);
      return;
    }
    this.#cut();
  }

  /** Stops the attempt and the client's response mid-way: the only honest signal left. */
  #cut(): void {
    this.#done = true;
    this.#disarm();
    this.#controller?.abort(RETRY);
    if (!this.res.writableEnded) this.res.destroy();
  }

  #clientClosed(): void {
    this.#engine.requestClosed();
    if (!this.#done && !this.res.writableFinished) this.#cut();
    else this.#disarm();
  }
}
