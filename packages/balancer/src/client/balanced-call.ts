import { LOAD_REPORT_HEADER } from '@readykit/metrics';
import type { Dispatcher } from 'undici';
import { type AttemptLoop, RETRY_ELSEWHERE } from '../attempt-loop.ts';
import { BalancerError, BalancerErrorCodes } from '../errors.ts';
import { LOAD_REPORT_NAMES, reportedUtilization } from '../load/load-report-header.ts';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/** What a call needs of the dispatcher that made it. */
export interface CallOwner {
  /** The logical origin, for error messages. */
  readonly origin: string;
  /** The call is over (answered or failed). */
  callEnded(): void;
  /** The call failed without a backend's answer; `code` is a {@link BalancerErrorCodes} value. */
  callFailed(code: string): void;
}

/**
 * One call through a {@link BalancedDispatcher}: sends the caller's request to the backend its
 * {@link AttemptLoop} picks, retries elsewhere when that is safe, and relays the one answer that
 * counts to the caller's handler. The caller sees a single request: one `onRequestStart`, one
 * response, and a controller that follows whichever attempt is running.
 */
export class BalancedCall implements Handler, Controller {
  readonly #owner: CallOwner;
  readonly #attempts: AttemptLoop;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #handler: Handler;
  #controller: Controller | undefined;
  #started = false;
  #responding = false;
  #ended = false;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  #rawHeaders: Buffer[] | undefined;
  #status = 0;

  constructor(
    owner: CallOwner,
    attempts: AttemptLoop,
    options: Dispatcher.DispatchOptions,
    handler: Handler,
  ) {
    this.#owner = owner;
    this.#attempts = attempts;
    this.#options = options;
    this.#handler = handler;
  }

  /** Starts an attempt on the next backend; fails the call when there is none. */
  send(): void {
    const backend = this.#attempts.begin(performance.now());
    if (backend === undefined) {
      const error = new BalancerError(
        BalancerErrorCodes.NO_BACKEND,
        `no backend available for ${this.#owner.origin}`,
      );
      // Failing within dispatch() would let a caller's retry loop spin without ever yielding to
      // timers and I/O (the very checks that could bring a backend back).
      setImmediate(() => this.#end(error, BalancerErrorCodes.NO_BACKEND));
      return;
    }
    this.#controller = undefined;
    backend.pool.dispatch(this.#options, this);
  }

  // --- the caller's controller: follows the attempt in progress ---

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  get rawHeaders(): Buffer[] | undefined {
    return this.#rawHeaders ?? (this.#controller?.rawHeaders as Buffer[] | undefined);
  }

  get rawTrailers(): Buffer[] | undefined {
    return this.#controller?.rawTrailers as Buffer[] | undefined;
  }

  abort(reason: Error): void {
    if (this.#aborted || this.#ended) return;
    this.#aborted = true;
    this.#reason = reason;
    // Between attempts there is no controller: onRequestStart aborts the next one.
    this.#controller?.abort(reason);
  }

  pause(): void {
    this.#paused = true;
    this.#controller?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#controller?.resume();
  }

  // --- the attempt's handler ---

  onRequestStart(controller: Controller, context: unknown): void {
    this.#controller = controller;
    if (this.#aborted) {
      controller.abort(this.#reason!);
      return;
    }
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this, context);
  }

  onRequestUpgrade(
    _controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    socket: import('node:stream').Duplex,
  ): void {
    this.#attempts.finish();
    this.#ended = true;
    this.#owner.callEnded();
    this.#handler.onRequestUpgrade?.(this, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    statusMessage?: string,
  ): void {
    const report = headers[LOAD_REPORT_HEADER];
    if (this.#attempts.responded(statusCode, performance.now(), reportedUtilization(report))) {
      controller.abort(RETRY_ELSEWHERE);
      return;
    }
    if (report !== undefined) {
      // The report is for the balancer: the caller sees the response without it.
      delete headers[LOAD_REPORT_HEADER];
      this.#rawHeaders = withoutLoadReport(controller.rawHeaders as Buffer[] | undefined);
    }
    this.#status = statusCode;
    this.#responding = true;
    if (this.#paused) controller.pause();
    this.#handler.onResponseStart?.(this, statusCode, headers, statusMessage);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.#handler.onResponseData?.(this, chunk);
  }

  onResponseEnd(_controller: Controller, trailers: Record<string, string | string[]>): void {
    this.#attempts.finish();
    this.#ended = true;
    this.#attempts.record(this.#status, performance.now());
    this.#owner.callEnded();
    this.#handler.onResponseEnd?.(this, trailers);
  }

  onResponseError(_controller: Controller | null, error: Error): void {
    this.#attempts.finish();
    if (this.#ended) return;
    if (error === RETRY_ELSEWHERE && !this.#aborted) {
      this.send();
      return;
    }
    if (this.#aborted) {
      // The caller's own abort: it expects its reason back.
      this.#end(this.#reason ?? error, undefined);
      return;
    }
    const now = performance.now();
    const verdict = this.#attempts.failed(error, now, this.#responding);
    if (verdict === 'retry') {
      this.send();
      return;
    }
    this.#attempts.record(0, now);
    const code =
      verdict === 'timeout' ? BalancerErrorCodes.DEADLINE_EXCEEDED : BalancerErrorCodes.BACKEND_FAILED;
    this.#end(error, code);
  }

  /** Fails the call for the caller with `error`; `code` counts it in the metrics. */
  #end(error: Error, code: string | undefined): void {
    this.#ended = true;
    if (code !== undefined) this.#owner.callFailed(code);
    this.#owner.callEnded();
    if (this.#handler.onResponseError === undefined) throw error;
    this.#handler.onResponseError(this, error);
  }
}

function withoutLoadReport(raw: Buffer[] | undefined): Buffer[] | undefined {
  if (raw === undefined) return undefined;
  const kept: Buffer[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // A Buffer's length is its latin1 length: only a name that long is decoded to compare.
    if (LOAD_REPORT_NAMES.mayHold(name.length) && LOAD_REPORT_NAMES.has(name.toString('latin1'))) continue;
    kept.push(name, raw[i + 1]!);
  }
  return kept;
}
