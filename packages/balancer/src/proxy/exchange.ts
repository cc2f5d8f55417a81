import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOAD_REPORT_HEADER } from '@readykit/metrics';
import type { RequestContext } from '@readykit/tracing';
import type { Dispatcher } from 'undici';
import { type AttemptLoop, RETRY_ELSEWHERE } from '../attempt-loop.ts';
import { BalancerErrorCodes } from '../errors.ts';
import { reportedUtilization } from '../load/load-report-header.ts';
import type { FailureKind } from './failure-kind.ts';
import type { ProxyEngine } from './proxy-engine.ts';
import { writeResponseHead } from './response-head.ts';

type Controller = Dispatcher.DispatchController;

/**
 * One client request on its way through the proxy: streams the request to the backend its
 * {@link AttemptLoop} picks and the response back with backpressure both ways, and on a
 * retryable failure tries another backend. Also undici's dispatch handler for the attempt in
 * progress.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly #engine: ProxyEngine;
  readonly #attempts: AttemptLoop;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #context: RequestContext;
  readonly #headers: string[];
  // Where the per-attempt headers (trace span, remaining budget) start in #headers.
  readonly #hopStart: number;
  /** When the first-byte budget (the request's deadline) runs out, on performance.now(). */
  readonly #deadline: number;
  /** When the whole exchange must be over (`timeouts.total`); Infinity for no limit. */
  readonly #totalEnd: number;
  #controller: Controller | undefined;
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
    attempts: AttemptLoop,
  ) {
    this.#engine = engine;
    this.req = req;
    this.res = res;
    this.#attempts = attempts;
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

  /** Sends the request to a backend; retries call it again. */
  send(): void {
    const now = performance.now();
    const left = this.#deadline - now;
    if (left <= 0) {
      this.#fail('deadline', false);
      return;
    }
    const backend = this.#attempts.begin(now);
    if (backend === undefined) {
      this.#fail('no-backend', false);
      return;
    }
    this.#controller = undefined;
    if (this.#attempts.attempts > 1) {
      // A retry is a new span with a smaller budget.
      this.#headers.length = this.#hopStart;
      this.#engine.writeHopHeaders(this.#context, this.#headers);
    }
    this.#arm(Math.min(this.#deadline, this.#totalEnd) - now);
    backend.pool.dispatch(this.#options, this);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#done) controller.abort(RETRY_ELSEWHERE);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx: Node answers 100-continue to the client itself
    const now = performance.now();
    if (this.#attempts.responded(statusCode, now, reportedUtilization(headers[LOAD_REPORT_HEADER]))) {
      controller.abort(RETRY_ELSEWHERE);
      return;
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
    this.#attempts.finish();
    this.#done = true;
    this.#disarm();
    this.res.end();
    this.#attempts.record(this.#status, performance.now());
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.#attempts.finish();
    if (this.#done) return;
    if (error === RETRY_ELSEWHERE) {
      this.send();
      return;
    }
    const verdict = this.#attempts.failed(error, performance.now(), this.#responding);
    if (verdict === 'aborted') return; // our own abort: already answered
    if (verdict === 'retry') this.send();
    else if (this.#responding) this.#cut();
    else this.#fail(verdict, true);
  }

  /** Answers the client itself; `attempted` when a backend was tried and failed. */
  #fail(kind: FailureKind | 'no-backend' | 'deadline', attempted: boolean): void {
    this.#done = true;
    this.#disarm();
    if (kind === 'no-backend') {
      this.#engine.reject(this.res, 503, BalancerErrorCodes.NO_BACKEND, 'no backend available');
    } else if (kind === 'timeout' || kind === 'deadline') {
      this.#engine.reject(this.res, 504, BalancerErrorCodes.DEADLINE_EXCEEDED, 'gateway timeout');
    } else {
      this.#engine.reject(this.res, 502, BalancerErrorCodes.BACKEND_FAILED, 'bad gateway');
    }
    if (attempted) this.#attempts.record(0, performance.now());
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
      const attempted = this.#attempts.backend !== undefined;
      this.#attempts.timedOut(performance.now());
      this.#fail('deadline', attempted);
      this.#controller?.abort(RETRY_ELSEWHERE);
      return;
    }
    this.#cut();
  }

  /** Stops the attempt and the client's response mid-way: the only honest signal left. */
  #cut(): void {
    this.#done = true;
    this.#disarm();
    this.#controller?.abort(RETRY_ELSEWHERE);
    if (!this.res.writableEnded) this.res.destroy();
  }

  #clientClosed(): void {
    this.#engine.requestClosed();
    if (!this.#done && !this.res.writableFinished) this.#cut();
    else this.#disarm();
  }
}
