import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  context,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { parseB3Multi, parseB3Single } from './b3.ts';
import { sanitizeBaggage } from './baggage.ts';
import { acquireContextManager, releaseContextManager } from './context-manager.ts';
import { parseGrpcTimeout, parseMilliseconds } from './deadline-headers.ts';
import { type IncomingTraceHeaders, readIncomingHeaders } from './incoming-headers.ts';
import { subscribeOutgoing, unsubscribeOutgoing } from './outgoing-channels.ts';
import { RequestContext, recordOnRequest } from './request-context.ts';
import { isRequestId, newRequestId } from './request-id.ts';
import { RequestScope } from './request-scope.ts';
import { parseTraceparent } from './traceparent.ts';
import { sanitizeTracestate } from './tracestate.ts';
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
    const requestId = isRequestId(incomingId) ? incomingId : newRequestId();
    const budget = this.#budget(headers);
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
    let traceId: string | undefined;
    let parentSpanId: string | undefined;
    let sampled: boolean | undefined;
    let traceState: string | undefined;
    // The first configured format that carries a valid trace wins; a B3 sampling-only header
    // ("b3: 0") still decides the flag of a trace started here.
    for (const name of settings.propagators) {
      if (name === 'tracecontext') {
        const parsed = parseTraceparent(headers.traceparent);
        if (parsed === undefined) continue;
        traceId = parsed.traceId;
        parentSpanId = parsed.parentSpanId;
        sampled = parsed.sampled;
        traceState = sanitizeTracestate(headers.tracestate);
        break;
      }
      if (name === 'b3' || name === 'b3multi') {
        // B3 multi is five headers and rare: Node's parsed headers object is fine for it.
        const parsed = name === 'b3' ? parseB3Single(headers.b3) : parseB3Multi(req.headers);
        if (parsed === undefined) continue;
        const decided = parsed.debug || parsed.sampled;
        if (parsed.traceId !== undefined && parsed.spanId !== undefined) {
          traceId = parsed.traceId;
          parentSpanId = parsed.spanId;
          sampled = decided ?? true;
          break;
        }
        sampled ??= decided;
      }
    }
    return new RequestContext(
      settings,
      traceId,
      undefined,
      parentSpanId,
      sampled ?? true,
      traceState,
      baggage,
      requestId,
      budget,
      false,
      res,
    );
  }

  /** The smallest budget any trusted header gives, clamped to `deadline.max`; the default when none. */
  #budget(headers: IncomingTraceHeaders): number {
    const settings = this.settings;
    let budget = parseMilliseconds(headers.deadline);
    if (settings.envoy) {
      // Envoy writes 0 for a route without a timeout: that is no budget, not an expired one.
      const envoy = parseMilliseconds(headers.envoyTimeout);
      if (envoy !== undefined && envoy > 0 && (budget === undefined || envoy < budget)) budget = envoy;
    }
    if (settings.grpcTimeout) {
      const grpc = parseGrpcTimeout(headers.grpcTimeout);
      if (grpc !== undefined && (budget === undefined || grpc < budget)) budget = grpc;
    }
    if (budget === undefined) return settings.defaultBudget;
    return Math.min(budget, settings.maxBudget);
  }

  /** Releases the diagnostics-channel subscriptions and the context manager readykit registered. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.settings.outgoing) unsubscribeOutgoing();
    releaseContextManager();
  }
}
