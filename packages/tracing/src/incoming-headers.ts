import type { TracingSettings } from './tracing-options.ts';

/**
 * The headers `Tracing` reads, picked out of `req.rawHeaders` in one pass: building Node's
 * `req.headers` object costs more than everything else readykit does per request, and many
 * handlers never need it. A repeated header is joined with ", " as Node would, so parsers of
 * single-valued headers refuse it.
 */
export class IncomingTraceHeaders {
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  baggage: string | undefined = undefined;
  b3: string | undefined = undefined;
  requestId: string | undefined = undefined;
  deadline: string | undefined = undefined;
  grpcTimeout: string | undefined = undefined;
  envoyTimeout: string | undefined = undefined;
}

const ENVOY = 'x-envoy-expected-rq-timeout-ms';

export function readIncomingHeaders(raw: readonly string[], settings: TracingSettings): IncomingTraceHeaders {
  const found = new IncomingTraceHeaders();
  const idHeader = settings.requestIdHeader;
  const deadlineHeader = settings.deadlineHeader;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const length = name.length;
    // Most headers are skipped on their length alone, without lowercasing.
    if (
      length !== 11 &&
      length !== 10 &&
      length !== 7 &&
      length !== 2 &&
      length !== 12 &&
      length !== 30 &&
      length !== idHeader.length &&
      length !== deadlineHeader.length
    ) {
      continue;
    }
    const lower = name.toLowerCase();
    const value = raw[i + 1]!;
    if (lower === idHeader) found.requestId = join(found.requestId, value);
    else if (lower === deadlineHeader) found.deadline = join(found.deadline, value);
    else if (lower === 'traceparent') found.traceparent = join(found.traceparent, value);
    else if (lower === 'tracestate') found.tracestate = join(found.tracestate, value);
    else if (lower === 'baggage') found.baggage = join(found.baggage, value);
    else if (lower === 'b3') found.b3 = join(found.b3, value);
    else if (lower === 'grpc-timeout') found.grpcTimeout = join(found.grpcTimeout, value);
    else if (lower === ENVOY) found.envoyTimeout = join(found.envoyTimeout, value);
  }
  return found;
}

function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}
