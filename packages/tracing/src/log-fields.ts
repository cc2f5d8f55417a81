import { getRequestContext, type RequestContext } from './request-context.ts';

/** The ids a log line needs to be found from a trace, and the other way round. */
export interface LogFields {
  trace_id: string;
  span_id: string;
  trace_flags: '01' | '00';
  request_id: string;
}

/**
 * The current request's ids under OpenTelemetry's log-correlation field names, or `{}` outside
 * a request. `pino({ mixin: logFields })` adds them to every line (pino's arguments are ignored).
 */
export function logFields(): LogFields | Record<string, never> {
  return logFieldsOf(getRequestContext());
}

/** `logFields()` for a given request context, e.g. `requestContextOf(req)` outside the request's async tree. */
export function logFieldsOf(requestContext: RequestContext | undefined): LogFields | Record<string, never> {
  if (requestContext === undefined) return {};
  return {
    trace_id: requestContext.traceId,
    span_id: requestContext.spanId,
    trace_flags: requestContext.sampled ? '01' : '00',
    request_id: requestContext.requestId,
  };
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];

/** The console methods of `correlatedConsole`. */
export type CorrelatedConsole = Pick<Console, ConsoleMethod>;

/**
 * A console whose lines start with `trace_id=… span_id=… request_id=…` inside a request (and
 * are unchanged outside one). Wraps the given console instead of patching the global one.
 */
export function correlatedConsole(base: Pick<Console, ConsoleMethod> = console): CorrelatedConsole {
  const wrapped = {} as CorrelatedConsole;
  for (const method of METHODS) {
    wrapped[method] = (...args: unknown[]) => {
      const requestContext = getRequestContext();
      if (requestContext === undefined) return base[method](...args);
      const prefix = `trace_id=${requestContext.traceId} span_id=${requestContext.spanId} request_id=${requestContext.requestId}`;
      // Keep printf-style formats working: the prefix joins the format string, not a new argument.
      if (typeof args[0] === 'string') return base[method](`${prefix} ${args[0]}`, ...args.slice(1));
      return base[method](prefix, ...args);
    };
  }
  return wrapped;
}
