import type { ServerResponse } from 'node:http';
import { parseB3Multi, parseB3Single } from './b3.ts';
import { parseGrpcTimeout, parseMilliseconds } from './deadline-headers.ts';
import type { IncomingTraceHeaders } from './incoming-headers.ts';
import { RequestContext } from './request-context.ts';
import { parseTraceparent } from './traceparent.ts';
import { sanitizeTracestate } from './tracestate.ts';
import type { TracingSettings } from './tracing-options.ts';

/**
 * Where the B3 multi-header form is read from: five headers, rare, so a headers object is
 * fine for them (an `IncomingMessage` is one; a proxy builds one from raw headers). Read only
 * when `b3multi` is configured and no earlier format carried a trace.
 */
export interface B3MultiSource {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * The request's budget in ms: the smallest any trusted header gives, clamped to `deadline.max`;
 * `deadline.default` when none carries a valid one.
 */
export function incomingBudget(headers: IncomingTraceHeaders, settings: TracingSettings): number {
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

/**
 * The context the incoming trace headers describe, when no OpenTelemetry SDK span carries the
 * request: the trace of the first configured format that carries a valid one (its span id
 * becomes the parent), else a trace started here. A B3 sampling-only header (`b3: 0`) still
 * decides the flag of a trace started here. Never throws on bad headers: they are ignored.
 */
export function contextFromHeaders(
  settings: TracingSettings,
  headers: IncomingTraceHeaders,
  b3multi: B3MultiSource,
  requestId: string,
  budgetMs: number,
  baggage: string | undefined,
  res: ServerResponse | undefined,
): RequestContext {
  let traceId: string | undefined;
  let parentSpanId: string | undefined;
  let sampled: boolean | undefined;
  let traceState: string | undefined;
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
      const parsed = name === 'b3' ? parseB3Single(headers.b3) : parseB3Multi(b3multi.headers);
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
    budgetMs,
    false,
    res,
  );
}
