import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context, context, createContextKey } from '@opentelemetry/api';
import { RequestAbortedError, TracingErrorCodes } from './errors.ts';
import type { TracingSettings } from './tracing-options.ts';

/** @internal */
export const CONTEXT_KEY = createContextKey('readykit.request-context');
const ON_REQUEST = Symbol('readykit.request-context');

/**
 * What readykit knows about the request being handled: its trace, its id and its time budget.
 * Reachable anywhere in the request's async call tree with `getRequestContext()`.
 */
export class RequestContext {
  /** The caller's span id, when the request carried one. */
  readonly parentSpanId: string | undefined;
  /** Whether the trace is sampled: the flag propagated downstream. */
  readonly sampled: boolean;
  /** W3C `tracestate` to forward, when one arrived valid. */
  readonly traceState: string | undefined;
  /** W3C `baggage` to forward, when one arrived valid and the baggage propagator is on. */
  readonly baggage: string | undefined;
  /** The request id: the caller's when valid, else one generated here. Echoed on the response. */
  readonly requestId: string;
  /** True when an OpenTelemetry SDK span carries this request: the SDK's instrumentations then inject trace headers. */
  readonly sdkSpan: boolean;
  /** @internal propagation settings of the instance that created this context. */
  readonly settings: TracingSettings;
  #traceId: string | undefined;
  #spanId: string | undefined;
  readonly #endsAt: number;
  readonly #res: ServerResponse | undefined;
  #controller: AbortController | undefined;

  /** @internal built by `Tracing`; use `getRequestContext()`. */
  constructor(
    settings: TracingSettings,
    traceId: string | undefined,
    spanId: string | undefined,
    parentSpanId: string | undefined,
    sampled: boolean,
    traceState: string | undefined,
    baggage: string | undefined,
    requestId: string,
    budgetMs: number,
    sdkSpan: boolean,
    res: ServerResponse | undefined,
  ) {
    this.settings = settings;
    this.#traceId = traceId;
    this.#spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.sampled = sampled;
    this.traceState = traceState;
    this.baggage = baggage;
    this.requestId = requestId;
    this.sdkSpan = sdkSpan;
    this.#endsAt = performance.now() + budgetMs;
    this.#res = res;
  }

  /** 32 lowercase hex digits: the trace this request belongs to (continued or started here). */
  get traceId(): string {
    // A trace started here gets its id on first use: many requests never need one.
    this.#traceId ??= this.settings.ids.traceId();
    return this.#traceId;
  }

  /** 16 lowercase hex digits: this service's span for the request; outgoing calls are its children. */
  get spanId(): string {
    this.#spanId ??= this.settings.ids.spanId();
    return this.#spanId;
  }

  /** The ids and the deadline, for logs and debugging; settings and the signal stay out. */
  toJSON(): Record<string, unknown> {
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      sampled: this.sampled,
      requestId: this.requestId,
      deadline: this.deadline,
    };
  }

  /** When the request's budget runs out, in epoch milliseconds (`Date.now()` terms). */
  get deadline(): number {
    return Math.floor(performance.timeOrigin + this.#endsAt);
  }

  /** Milliseconds left before the deadline; 0 once it has passed. */
  remainingMs(): number {
    return Math.max(0, this.#endsAt - performance.now());
  }

  /**
   * Aborts at the deadline (reason code `RK_ERR_DEADLINE_EXCEEDED`) or when the client goes away
   * before the response is complete (`RK_ERR_CLIENT_CLOSED`). Pass it to anything cancellable;
   * outgoing HTTP calls made during the request are tied to it already. Created on first use,
   * so requests that never ask pay nothing.
   */
  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    // Every outgoing call listens on it; a busy handler must not trip the listener-leak warning.
    setMaxListeners(0, controller.signal);
    const left = this.remainingMs();
    const res = this.#res;
    if (left === 0) {
      controller.abort(deadlineExceeded());
    } else if (res !== undefined && (res.writableFinished || res.destroyed)) {
      // Asked for after the response ended: nothing left to wait for.
      if (!res.writableFinished) controller.abort(clientClosed());
    } else {
      const timer = setTimeout(() => controller.abort(deadlineExceeded()), Math.ceil(left));
      timer.unref();
      res?.once('close', () => {
        clearTimeout(timer);
        if (!res.writableFinished && !controller.signal.aborted) controller.abort(clientClosed());
      });
    }
    return controller.signal;
  }
}

function deadlineExceeded(): RequestAbortedError {
  return new RequestAbortedError(TracingErrorCodes.DEADLINE_EXCEEDED, 'the request deadline passed');
}

function clientClosed(): RequestAbortedError {
  return new RequestAbortedError(TracingErrorCodes.CLIENT_CLOSED, 'the client closed the request');
}

/**
 * The context of the request whose async call tree is running, read through the OpenTelemetry
 * context API; `undefined` outside a request (startup code, timers started before any request).
 */
export function getRequestContext(from: Context = context.active()): RequestContext | undefined {
  return from.getValue(CONTEXT_KEY) as RequestContext | undefined;
}

/**
 * The request context recorded on the incoming request itself, for code that runs outside the
 * request's async tree (a response 'close' listener, metrics exemplars).
 */
export function requestContextOf(req: IncomingMessage): RequestContext | undefined {
  return (req as { [ON_REQUEST]?: RequestContext })[ON_REQUEST];
}

/** @internal */
export function recordOnRequest(req: IncomingMessage, requestContext: RequestContext): void {
  (req as { [ON_REQUEST]?: RequestContext })[ON_REQUEST] = requestContext;
}
