import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  context,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { sanitizeBaggage } from './baggage.ts';
import { acquireContextManager, releaseContextManager } from './context-manager.ts';
import { contextFromHeaders, incomingBudget } from './incoming-context.ts';
import { readIncomingHeaders } from './incoming-headers.ts';
import { subscribeOutgoing, unsubscribeOutgoing } from './outgoing-channels.ts';
import { RequestContext, recordOnRequest } from './request-context.ts';
import { isRequestId, newRequestId } from './request-id.ts';
import { RequestScope } from './request-scope.ts';
import { resolveTracingOptions, type TracingOptions, type TracingSettings } from './tracing-options.ts';

/**
 * Trace, request id and deadline propagation for a server. `handle(req, res, next)` reads the
 * request's headers, echoes its request id, and runs `next` with the request's context active,
 * so `getRequestContext()` and outgoing calls anywhere below see it.
 */
export class Tracing {
  readonly settings: TracingSettings;
  #closed = false;

  constructor(options?: TracingOptions) {
    this.settings = resolveTracingOptions(options);
    acquireContextManager();
    if (this.settings.outgoing) subscribeOutgoing();
  }

  /** Runs `next` inside the request's context. Never throws on bad headers: they are ignored. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const active = context.active();
    const requestContext = this.contextFor(req, res, active);
    if (!res.headersSent) res.setHeader(this.settings.requestIdHeader, requestContext.requestId);
    recordOnRequest(req, requestContext);
    // Without an SDK, OpenTelemetry-aware code (log correlation, libraries reading the active
    // span) still sees this request's trace through a non-recording span (see RequestScope).
    context.with(new RequestScope(active, requestContext), next);
  }

  /** The request's context from its headers (and the SDK's active span, when one exists). */
  contextFor(req: IncomingMessage, res?: ServerResponse, active: Context = context.active()): RequestContext {
    const settings = this.settings;
    const headers = readIncomingHeaders(req.rawHeaders, settings);
    const incomingId = headers.requestId;
    const requestId = isRequestId(incomingId) ? incomingId : newRequestId(settings.ids);
    const budget = incomingBudget(headers, settings);
    const baggage = settings.baggage ? sanitizeBaggage(headers.baggage) : undefined;
    const span = trace.getSpan(active);
    if (span !== undefined) {
      const sdk = span.spanContext();
      if (isSpanContextValid(sdk)) {
        const parent = (span as { parentSpanContext?: SpanContext }).parentSpanContext?.spanId;
        const sampled = (sdk.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
        const traceState = sdk.traceState?.serialize() || undefined;
        return new RequestContext(
          settings,
          sdk.traceId,
          sdk.spanId,
          parent,
          sampled,
          traceState,
          baggage,
          requestId,
          budget,
          true,
          res,
        );
      }
    }
    return contextFromHeaders(settings, headers, req, requestId, budget, baggage, res);
  }

  /** Releases the diagnostics-channel subscriptions and the context manager readykit registered. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.settings.outgoing) unsubscribeOutgoing();
    releaseContextManager();
  }
}
