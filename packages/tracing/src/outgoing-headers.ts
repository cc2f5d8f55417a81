import { formatB3Multi, formatB3Single } from './b3.ts';
import { formatMilliseconds } from './deadline-headers.ts';
import { getRequestContext, type RequestContext } from './request-context.ts';
import { formatTraceparent } from './traceparent.ts';

/** Receives one header to send; `has` tells whether the caller already set it (never overridden). */
export interface HeaderTarget {
  has(name: string): boolean;
  set(name: string, value: string): void;
}

/**
 * The remaining budget to send downstream, in whole ms: the time left minus the safety margin,
 * floored, so it is always strictly smaller than what this service received.
 */
export function downstreamBudget(requestContext: RequestContext): number {
  const left = requestContext.remainingMs() - requestContext.settings.margin;
  return left > 0 ? Math.floor(left) : 0;
}

/**
 * Writes what an outgoing call made during the request carries: the trace (same trace id, a new
 * span id whose parent is this service's span) in every configured format, `tracestate`,
 * `baggage`, the request id and the remaining budget. With an OpenTelemetry SDK span the SDK's
 * instrumentations write the trace headers, so only the id and the budget are written here.
 */
export function writeOutgoingHeaders(requestContext: RequestContext, target: HeaderTarget): void {
  const settings = requestContext.settings;
  if (!requestContext.sdkSpan) {
    const { traceId, sampled } = requestContext;
    const parent = requestContext.spanId;
    const spanId = settings.ids.spanId();
    if (settings.tracecontext && !target.has('traceparent')) {
      target.set('traceparent', formatTraceparent(traceId, spanId, sampled));
      if (requestContext.traceState !== undefined) target.set('tracestate', requestContext.traceState);
    }
    if (settings.b3 && !target.has('b3')) target.set('b3', formatB3Single(traceId, spanId, sampled, parent));
    if (settings.b3multi && !target.has('x-b3-traceid')) {
      for (const [name, value] of formatB3Multi(traceId, spanId, sampled, parent)) target.set(name, value);
    }
    if (requestContext.baggage !== undefined && !target.has('baggage'))
      target.set('baggage', requestContext.baggage);
  }
  if (!target.has(settings.requestIdHeader)) target.set(settings.requestIdHeader, requestContext.requestId);
  if (!target.has(settings.deadlineHeader)) {
    target.set(settings.deadlineHeader, formatMilliseconds(downstreamBudget(requestContext)));
  }
}

/**
 * The headers for an outgoing call the diagnostics channels do not reach (HTTP/2, gRPC, a
 * `node:http` request given its headers as an array): spread them into the call's headers.
 * Empty outside a request. Each call gets a new span id.
 */
export function outgoingHeaders(requestContext = getRequestContext()): Record<string, string> {
  const headers: Record<string, string> = {};
  if (requestContext === undefined) return headers;
  writeOutgoingHeaders(requestContext, {
    has: () => false,
    set: (name, value) => {
      headers[name] = value;
    },
  });
  return headers;
}
