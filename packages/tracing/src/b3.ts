import { isOws, skipOws, trimOwsEnd } from './field-value.ts';
import { isLowerHexId } from './trace-ids.ts';

/**
 * A Zipkin B3 context. `traceId` and `spanId` are both present or both absent: absent for a
 * header that only carries a sampling decision, such as `b3: 0`. Every field is always set
 * (possibly to `undefined`), so all contexts share one object shape.
 */
export interface B3Context {
  /** Always 32 lowercase hex characters: a 64-bit (16 hex) id is left-padded with zeros. */
  traceId?: string;
  /** 16 lowercase hex characters. */
  spanId?: string;
  /** 16 lowercase hex characters, when the caller sent one. */
  parentSpanId?: string;
  /** The caller's decision; `undefined` defers it to this service. */
  sampled?: boolean;
  /** Debug (`d`, `X-B3-Flags: 1`): record this trace whatever the sampler says; implies sampled. */
  debug: boolean;
}

const DASH = 0x2d;
const TRACE_ID_PADDING = '0000000000000000';

/**
 * Parses the single `b3` header: `{TraceId}-{SpanId}`, optionally followed by
 * `-{SamplingState}` (`0`, `1` or `d`) and then `-{ParentSpanId}`; or only a sampling state.
 * Ids are lowercase hex, not all zeros: TraceId 16 or 32 characters, the others 16. A parent id
 * is only accepted after a sampling state, as the format defines it. `undefined` for anything
 * else, including arrays and comma-joined repeated headers. Never throws.
 */
export function parseB3Single(value: string | string[] | undefined): B3Context | undefined {
  if (typeof value !== 'string') return undefined;
  const end = trimOwsEnd(value, 0, value.length);
  const start = skipOws(value, 0, end);
  const length = end - start;
  if (length === 1) {
    const sampling = samplingState(value.charCodeAt(start));
    return sampling === undefined ? undefined : context(undefined, undefined, undefined, sampling);
  }

  let traceLength: number;
  if (length >= 33 && value.charCodeAt(start + 16) === DASH) traceLength = 16;
  else if (length >= 49 && value.charCodeAt(start + 32) === DASH) traceLength = 32;
  else return undefined;
  const spanAt = start + traceLength + 1;
  if (!isLowerHexId(value, start, traceLength) || !isLowerHexId(value, spanAt, 16)) return undefined;

  let at = spanAt + 16;
  let sampling: SamplingState | undefined;
  let parentAt = -1;
  if (at < end) {
    // "-x" for the sampling state, then optionally "-<16 hex>" for the parent.
    if (value.charCodeAt(at) !== DASH || at + 2 > end) return undefined;
    sampling = samplingState(value.charCodeAt(at + 1));
    if (sampling === undefined) return undefined;
    at += 2;
    if (at < end) {
      if (end - at !== 17 || value.charCodeAt(at) !== DASH || !isLowerHexId(value, at + 1, 16)) {
        return undefined;
      }
      parentAt = at + 1;
    }
  }

  const traceId = value.slice(start, start + traceLength);
  return context(
    traceLength === 16 ? TRACE_ID_PADDING + traceId : traceId,
    value.slice(spanAt, spanAt + 16),
    parentAt < 0 ? undefined : value.slice(parentAt, parentAt + 16),
    sampling,
  );
}

/**
 * Parses the multi-header form from Node's lowercase `req.headers`: `x-b3-traceid`,
 * `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled` (`1`/`0`, and the `true`/`false` older
 * clients send) and `x-b3-flags` (`1` = debug, implies sampled; any other value is ignored, as
 * the B3 spec allows). A set with only a sampling decision is valid. `undefined` when no B3
 * header is present, or when any present one is invalid: a lone trace or span id, a parent
 * without ids, an id that is not lowercase hex of the right length, a repeated header.
 * Never throws.
 */
export function parseB3Multi(headers: Record<string, string | string[] | undefined>): B3Context | undefined {
  const rawTraceId = headers['x-b3-traceid'];
  const rawSpanId = headers['x-b3-spanid'];
  const rawParentSpanId = headers['x-b3-parentspanid'];
  const rawSampled = headers['x-b3-sampled'];
  const debug = isDebugFlag(headers['x-b3-flags']);
  if (
    rawTraceId === undefined &&
    rawSpanId === undefined &&
    rawParentSpanId === undefined &&
    rawSampled === undefined &&
    !debug
  ) {
    return undefined;
  }

  let sampled: boolean | undefined;
  if (rawSampled !== undefined) {
    sampled = sampledHeader(rawSampled);
    if (sampled === undefined) return undefined;
  }
  if (debug) sampled = true;

  if (rawTraceId === undefined && rawSpanId === undefined) {
    if (rawParentSpanId !== undefined) return undefined;
    return { traceId: undefined, spanId: undefined, parentSpanId: undefined, sampled, debug };
  }
  const traceId = multiTraceId(rawTraceId);
  const spanId = multiSpanId(rawSpanId);
  if (traceId === undefined || spanId === undefined) return undefined;
  let parentSpanId: string | undefined;
  if (rawParentSpanId !== undefined) {
    parentSpanId = multiSpanId(rawParentSpanId);
    if (parentSpanId === undefined) return undefined;
  }
  return { traceId, spanId, parentSpanId, sampled, debug };
}

/**
 * The single `b3` header, `{TraceId}-{SpanId}-{1|0}[-{ParentSpanId}]`. The sampling state is
 * always written, so the receiver never has to guess. Ids are written as given.
 */
export function formatB3Single(
  traceId: string,
  spanId: string,
  sampled: boolean,
  parentSpanId?: string,
): string {
  const head = `${traceId}-${spanId}-${sampled ? '1' : '0'}`;
  return parentSpanId === undefined ? head : `${head}-${parentSpanId}`;
}

/** The multi-header form as `[name, value]` pairs, names lowercase, ready for `setHeader`. */
export function formatB3Multi(
  traceId: string,
  spanId: string,
  sampled: boolean,
  parentSpanId?: string,
): Array<[name: string, value: string]> {
  const headers: Array<[name: string, value: string]> = [
    ['x-b3-traceid', traceId],
    ['x-b3-spanid', spanId],
  ];
  if (parentSpanId !== undefined) headers.push(['x-b3-parentspanid', parentSpanId]);
  headers.push(['x-b3-sampled', sampled ? '1' : '0']);
  return headers;
}

/** A B3 sampling state character: `1` accept, `0` deny, `d` debug. */
type SamplingState = '1' | '0' | 'd';

function samplingState(c: number): SamplingState | undefined {
  if (c === 0x31) return '1';
  if (c === 0x30) return '0';
  if (c === 0x64) return 'd';
  return undefined;
}

function context(
  traceId: string | undefined,
  spanId: string | undefined,
  parentSpanId: string | undefined,
  sampling: SamplingState | undefined,
): B3Context {
  return {
    traceId,
    spanId,
    parentSpanId,
    sampled: sampling === undefined ? undefined : sampling !== '0',
    debug: sampling === 'd',
  };
}

function multiTraceId(raw: string | string[] | undefined): string | undefined {
  const value = trimmedString(raw);
  if (value === undefined) return undefined;
  if (value.length === 32) return isLowerHexId(value, 0, 32) ? value : undefined;
  if (value.length === 16) return isLowerHexId(value, 0, 16) ? TRACE_ID_PADDING + value : undefined;
  return undefined;
}

function multiSpanId(raw: string | string[] | undefined): string | undefined {
  const value = trimmedString(raw);
  return value !== undefined && value.length === 16 && isLowerHexId(value, 0, 16) ? value : undefined;
}

function sampledHeader(raw: string | string[]): boolean | undefined {
  const value = trimmedString(raw);
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  return undefined;
}

function isDebugFlag(raw: string | string[] | undefined): boolean {
  return trimmedString(raw) === '1';
}

/** A single-valued header without surrounding whitespace; `undefined` for arrays. */
function trimmedString(raw: string | string[] | undefined): string | undefined {
  if (typeof raw !== 'string') return undefined;
  // Node already trims field values; only a hand-built headers object pays for the copy.
  const length = raw.length;
  if (length === 0 || (!isOws(raw.charCodeAt(0)) && !isOws(raw.charCodeAt(length - 1)))) return raw;
  const end = trimOwsEnd(raw, 0, length);
  return raw.slice(skipOws(raw, 0, end), end);
}
