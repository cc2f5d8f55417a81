/**
 * The server-reported load header: ORCA's in-band `endpoint-load-metrics` in its TEXT form,
 * the header Envoy's client-side weighted round robin reads, so one report serves both
 * readykit's balancer and Envoy:
 *
 *   endpoint-load-metrics: TEXT application_utilization=0.734, named_metrics.in_flight=12
 */

/** The response header carrying the load report (ORCA's in-band header). */
export const LOAD_REPORT_HEADER = 'endpoint-load-metrics';

/** What one backend reports about itself on a response. */
export interface LoadReport {
  /** Busy share of the backend, in [0, 1]; `undefined` when not reported. */
  utilization: number | undefined;
  /** HTTP requests in flight in the backend, the answered one included; `undefined` when not reported. */
  inFlight: number | undefined;
}

/** Longer header values are refused unread: a report is a few dozen characters. */
const MAX_LENGTH = 4096;
const PREFIX = 'TEXT';
const APPLICATION_UTILIZATION = 'application_utilization';
const CPU_UTILIZATION = 'cpu_utilization';
const IN_FLIGHT = 'named_metrics.in_flight';

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The header value for `report`: utilization clamped to [0, 1] and rounded to 3 decimals,
 * in-flight as a whole number; a field that is `undefined` or not a finite number is left out.
 */
export function formatLoadReport(report: LoadReport): string {
  const { utilization, inFlight } = report;
  const hasUtilization = typeof utilization === 'number' && Number.isFinite(utilization);
  const hasInFlight = typeof inFlight === 'number' && Number.isFinite(inFlight);
  if (hasUtilization && hasInFlight) return inFlightPrefix(utilization) + Math.max(0, Math.round(inFlight));
  if (hasUtilization) return `${PREFIX} ${APPLICATION_UTILIZATION}=${utilizationText(utilization)}`;
  if (hasInFlight) return `${PREFIX} ${IN_FLIGHT}=${Math.max(0, Math.round(inFlight))}`;
  return `${PREFIX} `;
}

/**
 * A full report up to the in-flight count, which the caller appends: the load reporter
 * caches this per utilization value, so a response costs one concatenation.
 */
export function inFlightPrefix(utilization: number): string {
  return `${PREFIX} ${APPLICATION_UTILIZATION}=${utilizationText(utilization)}, ${IN_FLIGHT}=`;
}

function utilizationText(utilization: number): string {
  return String(Math.round(Math.min(1, Math.max(0, utilization)) * 1000) / 1000);
}

/**
 * Reads a load report header value; `undefined` when it is not a well-formed TEXT report.
 * Runs on every proxied response, so it scans the string once by hand and allocates only
 * the result (and a substring for a number with an exponent or over 15 digits). Optional spaces and tabs are allowed around keys, `=` and `,`; unknown keys are
 * skipped. Utilization is `application_utilization`, or `cpu_utilization` when that is
 * absent or 0 (Envoy's rule: in ORCA's protobuf an unset field reads as 0), clamped to
 * [0, 1]. Refused: no `TEXT ` prefix, longer than 4096 characters, an empty key or value, a
 * known key whose value is not a finite non-negative decimal number (in-flight: not a whole
 * number).
 */
export function parseLoadReport(value: string): LoadReport | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
  let end = value.length;
  while (end > 0 && isBlank(value.charCodeAt(end - 1))) end--;
  let i = skipBlanks(value, 0, end);
  if (!value.startsWith(PREFIX, i)) return undefined;
  i += PREFIX.length;
  if (value.charCodeAt(i) !== SPACE) return undefined; // ORCA's prefix is exactly `TEXT `
  i = skipBlanks(value, i, end);
  let application: number | undefined;
  let cpu: number | undefined;
  let inFlight: number | undefined;
  while (i < end) {
    const keyStart = i;
    while (i < end && !isKeyEnd(value.charCodeAt(i))) i++;
    const keyEnd = i;
    i = skipBlanks(value, i, end);
    if (keyEnd === keyStart || value.charCodeAt(i) !== EQUALS) return undefined;
    i = skipBlanks(value, i + 1, end);
    const valueStart = i;
    while (i < end && !isValueEnd(value.charCodeAt(i))) i++;
    const valueEnd = i;
    if (valueEnd === valueStart) return undefined;
    i = skipBlanks(value, i, end);
    if (i < end) {
      if (value.charCodeAt(i) !== COMMA) return undefined;
      i = skipBlanks(value, i + 1, end);
      if (i === end) return undefined; // a trailing comma
    }
    if (isKey(value, keyStart, keyEnd, APPLICATION_UTILIZATION)) {
      application = decimal(value, valueStart, valueEnd);
      if (application === undefined) return undefined;
    } else if (isKey(value, keyStart, keyEnd, CPU_UTILIZATION)) {
      cpu = decimal(value, valueStart, valueEnd);
      if (cpu === undefined) return undefined;
    } else if (isKey(value, keyStart, keyEnd, IN_FLIGHT)) {
      inFlight = decimal(value, valueStart, valueEnd);
      if (inFlight === undefined || !Number.isSafeInteger(inFlight)) return undefined;
    }
  }
  const utilization = application !== undefined && (application > 0 || cpu === undefined) ? application : cpu;
  return { utilization: utilization === undefined ? undefined : Math.min(1, utilization), inFlight };
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

function isKeyEnd(code: number): boolean {
  return code === EQUALS || code === COMMA || code === SPACE || code === TAB;
}

function isValueEnd(code: number): boolean {
  return code === COMMA || code === SPACE || code === TAB;
}

function skipBlanks(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  return i;
}

function isKey(text: string, start: number, end: number, key: string): boolean {
  return end - start === key.length && text.startsWith(key, start);
}

/** Most digits for which integer / 10^k is exact: both stay below 2^53. */
const MAX_FAST_DIGITS = 15;

/**
 * A non-negative decimal `digits[.digits][e[+-]digits]` (either digit run may be empty, not
 * both) between start and end, or `undefined`. Short plain decimals, the form reports use,
 * are computed without a substring: an integer of at most 15 digits divided by a power of ten
 * rounds exactly as `Number()` would.
 */
function decimal(text: string, start: number, end: number): number | undefined {
  let i = start;
  let mantissa = 0;
  let digits = 0;
  let scale = 1;
  while (i < end && isDigit(text.charCodeAt(i))) {
    mantissa = mantissa * 10 + (text.charCodeAt(i) - ZERO);
    digits++;
    i++;
  }
  let fractionDigits = 0;
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) {
      mantissa = mantissa * 10 + (text.charCodeAt(i) - ZERO);
      scale *= 10;
      fractionDigits++;
      i++;
    }
  }
  if (digits + fractionDigits === 0) return undefined;
  if (i === end && digits + fractionDigits <= MAX_FAST_DIGITS) return mantissa / scale;
  if (i < end) {
    const e = text.charCodeAt(i);
    if (e !== 0x65 && e !== 0x45) return undefined; // e, E
    i++;
    if (i < end && (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d)) i++; // +, -
    const exponentStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === exponentStart || i !== end) return undefined;
  }
  const parsed = Number(text.slice(start, end));
  return Number.isFinite(parsed) ? parsed : undefined;
}

function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}
