import { skipOws, trimOwsEnd } from './field-value.ts';
import { isLowerHexId } from './trace-ids.ts';

/** The fields of a W3C `traceparent` header (Trace Context level 1). */
export interface Traceparent {
  /** 32 lowercase hex characters, not all zeros. */
  traceId: string;
  /** The caller's span: 16 lowercase hex characters, not all zeros. */
  parentSpanId: string;
  /** Bit 0 of `flags`: the caller may have recorded this trace. */
  sampled: boolean;
  /** All eight trace-flags bits as received (0-255), for flags defined after level 1. */
  flags: number;
}

// Version 00 is exactly "vv-<32 hex>-<16 hex>-ff": 2 + 1 + 32 + 1 + 16 + 1 + 2.
const VERSION_00_LENGTH = 55;
const DASH = 0x2d;

/**
 * Parses an incoming `traceparent` header; `undefined` when it is absent or invalid, in which
 * case the spec asks to start a new trace. Follows the level 1 versioning rules: version `ff` is
 * invalid, version `00` must be exactly 55 characters, a higher version is parsed for its first
 * four fields when what follows them starts with `-`. Never throws.
 *
 * Stricter than the letter of the spec where it costs nothing: uppercase hex is refused (the
 * grammar is lowercase), and so is a comma anywhere, which is how Node presents a repeated
 * header (two `traceparent` headers make the value ambiguous).
 */
export function parseTraceparent(value: string | string[] | undefined): Traceparent | undefined {
  if (typeof value !== 'string') return undefined;
  const end = trimOwsEnd(value, 0, value.length);
  const start = skipOws(value, 0, end);
  const length = end - start;
  if (length < VERSION_00_LENGTH) return undefined;

  const version = hexByte(value, start);
  if (version < 0 || version === 0xff) return undefined;
  if (version === 0) {
    if (length !== VERSION_00_LENGTH) return undefined;
  } else if (length > VERSION_00_LENGTH) {
    if (value.charCodeAt(start + VERSION_00_LENGTH) !== DASH) return undefined;
    if (!isFutureFields(value, start + VERSION_00_LENGTH + 1, end)) return undefined;
  }

  if (
    value.charCodeAt(start + 2) !== DASH ||
    value.charCodeAt(start + 35) !== DASH ||
    value.charCodeAt(start + 52) !== DASH
  ) {
    return undefined;
  }
  if (!isLowerHexId(value, start + 3, 32) || !isLowerHexId(value, start + 36, 16)) return undefined;
  const flags = hexByte(value, start + 53);
  if (flags < 0) return undefined;

  return {
    traceId: value.slice(start + 3, start + 35),
    parentSpanId: value.slice(start + 36, start + 52),
    sampled: (flags & 1) === 1,
    flags,
  };
}

/**
 * The outgoing header, always version `00`: a higher version received is downgraded, as the
 * spec requires. The ids are written as given; pass ids that `isTraceId`/`isSpanId` accept.
 */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The value of two lowercase hex digits at `at`, or -1. */
function hexByte(s: string, at: number): number {
  const high = lowerHexDigit(s.charCodeAt(at));
  const low = lowerHexDigit(s.charCodeAt(at + 1));
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

function lowerHexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * The fields a future version appends are never read, only screened: visible ASCII without a
 * comma, so a repeated header or a control character cannot slip through as "future fields".
 */
function isFutureFields(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x2c) return false;
  }
  return true;
}
