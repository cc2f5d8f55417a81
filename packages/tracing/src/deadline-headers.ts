import { skipOws, trimOwsEnd } from './field-value.ts';

// gRPC over HTTP/2: TimeoutValue is at most 8 ASCII digits.
const GRPC_MAX_VALUE = 99_999_999;
// 15 digits stay below 2 ** 53, so every value parses to the exact integer.
const MAX_MILLISECONDS_DIGITS = 15;
const MAX_MILLISECONDS = 999_999_999_999_999;

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

/**
 * Parses a `grpc-timeout` header (`TimeoutValue TimeoutUnit`): 1-8 ASCII digits and one unit of
 * `H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds.
 * Returns the budget in milliseconds, fractional for `u` and `n`; `undefined` for anything else
 * (9 digits, a sign, inner spaces, another unit, an array). Whitespace around the value is not
 * part of an HTTP field value and is ignored. `0` is accepted: a caller whose deadline has
 * passed. Never throws.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const end = trimOwsEnd(value, 0, value.length);
  const start = skipOws(value, 0, end);
  const digits = end - 1 - start;
  if (digits < 1 || digits > 8) return undefined;
  const amount = digitsValue(value, start, end - 1);
  if (amount < 0) return undefined;
  switch (value.charCodeAt(end - 1)) {
    case 0x48 /* H */:
      return amount * MS_PER_HOUR;
    case 0x4d /* M */:
      return amount * MS_PER_MINUTE;
    case 0x53 /* S */:
      return amount * MS_PER_SECOND;
    case 0x6d /* m */:
      return amount;
    case 0x75 /* u */:
      return amount / 1000;
    case 0x6e /* n */:
      return amount / 1_000_000;
    default:
      return undefined;
  }
}

/**
 * Parses a whole number of milliseconds, the form of `x-envoy-expected-rq-timeout-ms` and of
 * readykit's own deadline header: 1-15 ASCII digits, surrounding whitespace ignored. No sign,
 * decimal point or exponent. `undefined` for anything else. Never throws.
 */
export function parseMilliseconds(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const end = trimOwsEnd(value, 0, value.length);
  const start = skipOws(value, 0, end);
  if (end === start || end - start > MAX_MILLISECONDS_DIGITS) return undefined;
  const ms = digitsValue(value, start, end);
  return ms < 0 ? undefined : ms;
}

/**
 * Writes a budget for {@link parseMilliseconds}: whole milliseconds, rounded down so a budget
 * never grows on its way downstream. Negative and NaN give `0` (no time left); budgets past
 * 15 digits (Infinity included) are capped at the largest the parser accepts.
 */
export function formatMilliseconds(ms: number): string {
  if (!(ms > 0)) return '0';
  if (ms >= MAX_MILLISECONDS) return String(MAX_MILLISECONDS);
  return String(Math.floor(ms));
}

/**
 * Writes a budget as a `grpc-timeout` value, rounded down, never up: a budget must never grow.
 * Whole milliseconds are written in `m` (`1500m`, also `1000m` rather than `1S`: exact and
 * plain); fractional ones in `u` (microseconds, floored) while that fits 8 digits, else
 * floored to `m`; budgets past 8 digits of ms fall back to the first of `S`, `M`, `H` that
 * fits, floored. Negative and NaN give `0m`; budgets past `99999999H` (Infinity included)
 * are capped there.
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return '0m';
  if (ms < GRPC_MAX_VALUE + 1) {
    const whole = Math.floor(ms);
    if (whole === ms || ms * 1000 >= GRPC_MAX_VALUE + 1) return `${whole}m`;
    let micros = Math.floor(ms * 1000);
    // ms * 1000 can round up to the next integer; the parser divides back, so check that way.
    if (micros / 1000 > ms) micros--;
    return micros % 1000 === 0 ? `${micros / 1000}m` : `${micros}u`;
  }
  const seconds = flooredUnits(ms, MS_PER_SECOND);
  if (seconds <= GRPC_MAX_VALUE) return `${seconds}S`;
  const minutes = flooredUnits(ms, MS_PER_MINUTE);
  if (minutes <= GRPC_MAX_VALUE) return `${minutes}M`;
  const hours = flooredUnits(ms, MS_PER_HOUR);
  return `${Math.min(hours, GRPC_MAX_VALUE)}H`;
}

/** How many whole units fit in `ms`; never more, although `ms / unit` may round up. */
function flooredUnits(ms: number, unit: number): number {
  const units = Math.floor(ms / unit);
  return units * unit > ms ? units - 1 : units;
}

/** The value of the ASCII digits in `[start, end)`, or -1 if any character is not a digit. */
function digitsValue(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
