import { type Context, type Span, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { CONTEXT_KEY, type RequestContext } from './request-context.ts';

// The API's own span key: createContextKey() is Symbol.for(description), so this is the very
// symbol trace.getSpan() reads.
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * The OpenTelemetry context a request runs in: its parent plus the request context and, without
 * an SDK, a non-recording span carrying the request's ids. The API's own contexts copy a Map and
 * build three closures per value set; this one answers the two keys itself, builds the span
 * only when something asks for it, and becomes an ordinary context only when code derives a new
 * one from it.
 */
export class RequestScope implements Context {
  readonly #parent: Context;
  readonly #requestContext: RequestContext;
  #span: Span | undefined;

  constructor(parent: Context, requestContext: RequestContext) {
    this.#parent = parent;
    this.#requestContext = requestContext;
  }

  getValue(key: symbol): unknown {
    if (key === CONTEXT_KEY) return this.#requestContext;
    if (key === SPAN_KEY && !this.#requestContext.sdkSpan) return this.#spanOf();
    return this.#parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.#materialize().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.#materialize().deleteValue(key);
  }

  #spanOf(): Span {
    this.#span ??= trace.wrapSpanContext(spanContextOf(this.#requestContext));
    return this.#span;
  }

  #materialize(): Context {
    const ctx = this.#parent.setValue(CONTEXT_KEY, this.#requestContext);
    return this.#requestContext.sdkSpan ? ctx : ctx.setValue(SPAN_KEY, this.#spanOf());
  }
}

function spanContextOf(requestContext: RequestContext): SpanContext {
  return {
    traceId: requestContext.traceId,
    spanId: requestContext.spanId,
    traceFlags: requestContext.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: false,
  };
}
