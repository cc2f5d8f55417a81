import { sanitizeBaggage } from './baggage.ts';
import { type B3MultiSource, contextFromHeaders, incomingBudget } from './incoming-context.ts';
import { readIncomingHeaders } from './incoming-headers.ts';
import { type HeaderTarget, writeOutgoingHeaders } from './outgoing-headers.ts';
import type { RequestContext } from './request-context.ts';
import { isRequestId, newRequestId } from './request-id.ts';
import { resolveTracingOptions, type TracingOptions, type TracingSettings } from './tracing-options.ts';

const B3_MULTI_HEADERS = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'];
const NO_B3_MULTI: B3MultiSource = { headers: {} };

/**
 * Trace, request id and deadline propagation for a proxy hop: the same options, parsers and
 * rules as `Tracing`, without what a service needs and a proxy does not (no context
 * manager, no diagnostics-channel subscriptions: the `outgoing` option is ignored, and nothing
 * needs closing). Reads the incoming raw headers once per request with {@link read}, then writes
 * the headers of each attempt to a backend with {@link write}:
 *
 * - the incoming W3C trace continues (same trace id, a new span id per attempt as the
 *   backend's parent), or one starts here; `tracestate` goes along only with a valid
 *   `traceparent`; B3 is read and written only when configured;
 * - `baggage` (with the `baggage` propagator) is forwarded when valid, dropped when not;
 * - a valid request id is kept, any other replaced by a new UUID;
 * - the budget is the smallest of the deadline header, `grpc-timeout` and
 *   `x-envoy-expected-rq-timeout-ms`, clamped to `deadline.max` (`deadline.default` when none),
 *   and each attempt sends `floor(remaining - deadline.margin)`.
 *
 * The headers `write` sets replace the incoming ones: drop every name in {@link rewrites} from
 * the headers forwarded as received, or the backend sees both.
 */
export class HopPropagation {
  readonly settings: TracingSettings;
  /**
   * Lowercase names of every header {@link write} may set; the forwarded copy of the incoming
   * headers must leave them out. Headers of formats not configured (`b3` by default) are not
   * here: they pass through the hop untouched.
   */
  readonly rewrites: readonly string[];
  readonly #target = new FlatHeaderTarget();

  constructor(options?: TracingOptions) {
    const settings = resolveTracingOptions(options);
    this.settings = settings;
    const rewrites: string[] = [];
    if (settings.tracecontext) rewrites.push('traceparent', 'tracestate');
    if (settings.baggage) rewrites.push('baggage');
    if (settings.b3) rewrites.push('b3');
    if (settings.b3multi) rewrites.push(...B3_MULTI_HEADERS);
    rewrites.push(settings.requestIdHeader, settings.deadlineHeader);
    this.rewrites = Object.freeze(rewrites);
  }

  /**
   * The request's context, from its raw headers (`req.rawHeaders`): trace, request id and a
   * deadline that starts now. Call it once per request, as soon as it arrives; its
   * `remainingMs()` and `signal` serve as the proxy's own deadline. Never throws on bad headers.
   */
  read(rawHeaders: readonly string[]): RequestContext {
    const settings = this.settings;
    const headers = readIncomingHeaders(rawHeaders, settings);
    const incomingId = headers.requestId;
    const requestId = isRequestId(incomingId) ? incomingId : newRequestId(settings.ids);
    const budget = incomingBudget(headers, settings);
    const baggage = settings.baggage ? sanitizeBaggage(headers.baggage) : undefined;
    const b3multi = settings.b3multi ? { headers: b3MultiHeaders(rawHeaders) } : NO_B3_MULTI;
    return contextFromHeaders(settings, headers, b3multi, requestId, budget, baggage, undefined);
  }

  /**
   * Appends the headers of one attempt to `out` as flat `name, value` pairs (undici's
   * `dispatch({ headers })` takes that array as it is): the trace with a new span id, the
   * request id and the budget left at this moment minus the margin. Call it again for a retry:
   * the new attempt gets its own span id and a smaller budget.
   */
  write(requestContext: RequestContext, out: string[]): void {
    const target = this.#target;
    target.out = out;
    writeOutgoingHeaders(requestContext, target);
    target.out = undefined;
  }
}

/** Appends to a flat header array; `has` is false because rewritten names were never copied. */
class FlatHeaderTarget implements HeaderTarget {
  out: string[] | undefined = undefined;

  has(): boolean {
    return false;
  }

  set(name: string, value: string): void {
    this.out?.push(name, value);
  }
}

/** The `x-b3-*` headers as a lowercase object; a repeated one is joined, so the parser refuses it. */
function b3MultiHeaders(raw: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Every x-b3-* name is 10 to 17 characters long and starts with "x-b3-".
    if (name.length < 10 || name.length > 17 || (name.charCodeAt(0) | 0x20) !== 0x78) continue;
    const lower = name.toLowerCase();
    if (!B3_MULTI_HEADERS.includes(lower)) continue;
    const previous = found[lower];
    found[lower] = previous === undefined ? raw[i + 1]! : `${previous}, ${raw[i + 1]!}`;
  }
  return found;
}
