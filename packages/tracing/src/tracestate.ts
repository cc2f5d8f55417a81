import { skipOws, trimOwsEnd } from './field-value.ts';

// W3C Trace Context level 1 limits: 32 list members, 512 characters a vendor must carry.
const MAX_MEMBERS = 32;
const MAX_LENGTH = 512;
const MAX_SIMPLE_KEY = 256;
const MAX_TENANT_ID = 241;
const MAX_SYSTEM_ID = 14;
const MAX_VALUE = 256;

// Where each key of the header being checked starts and ends, to find duplicates without
// allocating: parsing is synchronous, so one scratch pair serves every call.
const keyStarts = new Int32Array(MAX_MEMBERS);
const keyEnds = new Int32Array(MAX_MEMBERS);

/**
 * Checks an incoming `tracestate` header and returns the value to forward, unchanged, or
 * `undefined` to drop the whole header: the spec lets a vendor discard what it cannot parse,
 * and forwarding garbage would only break the next hop.
 *
 * Valid: at most 32 `key=value` members with the level 1 key grammar (simple keys and
 * `tenant@system` keys), values of printable ASCII without `,` and `=`, each key once, at most
 * 512 characters in all. Empty and whitespace-only members (what joined repeated headers
 * produce) are allowed and do not count as members. A header with no member at all is
 * `undefined` too: there is nothing to forward. Repeated header lines given as an array are
 * joined with `,` first. Never throws.
 */
export function sanitizeTracestate(value: string | string[] | undefined): string | undefined {
  const header = typeof value === 'string' ? value : joinLines(value);
  if (header === undefined || header.length > MAX_LENGTH) return undefined;
  let members = 0;
  let at = 0;
  while (at <= header.length) {
    let next = header.indexOf(',', at);
    if (next === -1) next = header.length;
    const end = trimOwsEnd(header, at, next);
    const start = skipOws(header, at, end);
    if (start < end) {
      if (members === MAX_MEMBERS) return undefined;
      const equals = keyEnd(header, start, end);
      if (equals < 0 || !isValue(header, equals + 1, end)) return undefined;
      for (let m = 0; m < members; m++) {
        if (sameText(header, keyStarts[m]!, keyEnds[m]!, start, equals)) return undefined;
      }
      keyStarts[members] = start;
      keyEnds[members] = equals;
      members++;
    }
    at = next + 1;
  }
  return members === 0 ? undefined : header;
}

/** Repeated header lines as one list; `undefined` for anything but an array of strings. */
function joinLines(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const line of value) if (typeof line !== 'string') return undefined;
  return value.join(',');
}

/**
 * Index of the `=` that ends a valid key starting at `start`, or -1.
 * simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@" system-id, where
 * tenant-id = (lcalpha / DIGIT) 0*240(keychar) and system-id = lcalpha 0*13(keychar).
 */
function keyEnd(s: string, start: number, end: number): number {
  const first = s.charCodeAt(start);
  if (!isLcAlpha(first) && !isDigit(first)) return -1;
  let i = start + 1;
  while (i < end && isKeyChar(s.charCodeAt(i))) i++;
  const c = s.charCodeAt(i);
  if (i < end && c === 0x3d /* = */) {
    return isLcAlpha(first) && i - start <= MAX_SIMPLE_KEY ? i : -1;
  }
  if (i >= end || c !== 0x40 /* @ */ || i - start > MAX_TENANT_ID) return -1;
  const system = i + 1;
  if (system >= end || !isLcAlpha(s.charCodeAt(system))) return -1;
  i = system + 1;
  while (i < end && isKeyChar(s.charCodeAt(i))) i++;
  if (i >= end || s.charCodeAt(i) !== 0x3d || i - system > MAX_SYSTEM_ID) return -1;
  return i;
}

/**
 * value = 0*255(chr) nblk-chr: 1-256 characters of 0x20-0x7E except `,` and `=`, the last not a
 * space. Trailing spaces were already trimmed as whitespace around the member.
 */
function isValue(s: string, start: number, end: number): boolean {
  const length = end - start;
  if (length < 1 || length > MAX_VALUE) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return s.charCodeAt(end - 1) !== 0x20;
}

function sameText(s: string, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const length = aEnd - aStart;
  if (length !== bEnd - bStart) return false;
  for (let i = 0; i < length; i++) {
    if (s.charCodeAt(aStart + i) !== s.charCodeAt(bStart + i)) return false;
  }
  return true;
}

function isKeyChar(c: number): boolean {
  // lcalpha / DIGIT / "_" / "-" / "*" / "/"
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f;
}

function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
