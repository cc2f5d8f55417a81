import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { RequestAbortedError, TracingErrorCodes } from './errors.ts';
import { downstreamBudget, type HeaderTarget, writeOutgoingHeaders } from './outgoing-headers.ts';
import { getRequestContext, type RequestContext } from './request-context.ts';

// The slice of undici's Request (Node's bundled undici behind global fetch, and undici from npm)
// these channels hand out. `addHeader` is what undici's own OpenTelemetry instrumentation uses;
// `abort` (set once connected) and `error` (aborts at connect) are how undici cancels a request.
interface UndiciRequest {
  headers: unknown;
  completed: boolean;
  aborted: boolean;
  abort: ((reason: Error) => void) | null;
  error?: Error;
  addHeader(name: string, value: string): unknown;
  [DETACH]?: () => void;
}

const DETACH = Symbol('readykit.detach-deadline');
let users = 0;

/**
 * Outgoing calls made while a request is handled get its headers and die with its deadline,
 * without patching anything: undici (and so global `fetch`) publishes `undici:request:create`,
 * `node:http(s)` publishes `http.client.request.created`, both before any byte is written.
 */
export function subscribeOutgoing(): void {
  if (users++ > 0) return;
  subscribe('undici:request:create', onUndiciCreate);
  subscribe('undici:request:trailers', onUndiciEnd);
  subscribe('undici:request:error', onUndiciEnd);
  subscribe('http.client.request.created', onHttpCreated);
}

export function unsubscribeOutgoing(): void {
  if (users === 0 || --users > 0) return;
  unsubscribe('undici:request:create', onUndiciCreate);
  unsubscribe('undici:request:trailers', onUndiciEnd);
  unsubscribe('undici:request:error', onUndiciEnd);
  unsubscribe('http.client.request.created', onHttpCreated);
}

function onUndiciCreate(message: unknown): void {
  const requestContext = getRequestContext();
  if (requestContext === undefined || !requestContext.settings.outgoing) return;
  const request = (message as { request: UndiciRequest }).request;
  writeOutgoingHeaders(requestContext, undiciTarget(request));
  const detach = tieToDeadline(requestContext, (reason) => abortUndici(request, reason));
  if (detach !== undefined) request[DETACH] = detach;
}

function onUndiciEnd(message: unknown): void {
  const request = (message as { request: UndiciRequest }).request;
  const detach = request[DETACH];
  if (detach === undefined) return;
  request[DETACH] = undefined;
  detach();
}

function abortUndici(request: UndiciRequest, reason: Error): void {
  if (request.completed || request.aborted) return;
  if (typeof request.abort === 'function') request.abort(reason);
  else request.error = reason;
}

function undiciTarget(request: UndiciRequest): HeaderTarget {
  return {
    has: (name) => {
      const headers = request.headers;
      if (!Array.isArray(headers)) return false;
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === name) return true;
      }
      return false;
    },
    set: (name, value) => {
      request.addHeader(name, value);
    },
  };
}

function onHttpCreated(message: unknown): void {
  const requestContext = getRequestContext();
  if (requestContext === undefined || !requestContext.settings.outgoing) return;
  const request = (message as { request: ClientRequest }).request;
  // Headers given as an array are already serialised: outgoingHeaders() is the way there.
  if (!request.headersSent) writeOutgoingHeaders(requestContext, httpTarget(request));
  const detach = tieToDeadline(requestContext, (reason) => request.destroy(reason));
  if (detach !== undefined) request.once('close', detach);
}

/**
 * Aborts an outgoing call now when the request's budget leaves nothing to send downstream, else
 * when the request's signal fires (deadline, client gone). Returns what unhooks it once the call
 * is over, or `undefined` when it was aborted already.
 */
function tieToDeadline(
  requestContext: RequestContext,
  abort: (reason: Error) => void,
): (() => void) | undefined {
  if (downstreamBudget(requestContext) === 0) {
    abort(deadlineExceeded());
    return undefined;
  }
  const signal = requestContext.signal;
  if (signal.aborted) {
    abort(signal.reason as Error);
    return undefined;
  }
  const onAbort = () => abort(signal.reason as Error);
  signal.addEventListener('abort', onAbort);
  return () => signal.removeEventListener('abort', onAbort);
}

function httpTarget(request: ClientRequest): HeaderTarget {
  return {
    has: (name) => request.hasHeader(name),
    set: (name, value) => request.setHeader(name, value),
  };
}

function deadlineExceeded(): RequestAbortedError {
  return new RequestAbortedError(
    TracingErrorCodes.DEADLINE_EXCEEDED,
    'the request deadline left no time for this outgoing call',
  );
}
