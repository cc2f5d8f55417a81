import { skipOws, trimOwsEnd } from './field-value.ts';

// W3C Baggage limits a platform must be able to propagate; beyond them the header is dropped.
const MAX_MEMBERS = 64;
const MAX_BYTES = 8192;

/**
 * Checks an incoming W3C `baggage` header and returns the value to forward, unchanged, or
 * `undefined` to drop the whole header. Never throws.
 *
 * Valid: `key=value` list members separated by commas, each with optional `;key` or
 * `;key=value` properties, optional whitespace around `,`, `;` and `=`; keys are RFC 7230
 * tokens; values are baggage-octets (visible ASCII except `"`, `,`, `;`, `\`), where `%` must
 * start a percent-encoded byte (`%` and two hex digits); at most 64 members and 8192 bytes
 * (every valid character is ASCII, so characters are bytes). An empty member (`a=1,,b=2`) is
 * invalid, as the grammar has none; an empty or whitespace-only header is `undefined` (nothing
 * to forward). Repeated header lines given as an array are joined with `,` first.
 */
export function sanitizeBaggage(value: string | string[] | undefined): string | undefined {
  const header = typeof value === 'string' ? value : joinLines(value);
  if (header === undefined || header.length > MAX_BYTES) return undefined;
  const end = trimOwsEnd(header, 0, header.length);
  let at = skipOws(header, 0, end);
  if (at === end) return undefined;

  let members = 0;
  for (;;) {
    if (++members > MAX_MEMBERS) return undefined;
    // key OWS "=" OWS value
    at = keyValue(header, at, end, true);
    if (at < 0) return undefined;
    // *( OWS ";" OWS property ), property = key OWS "=" OWS value / key OWS
    let c = header.charCodeAt(at);
    while (at < end && c === 0x3b /* ; */) {
      at = keyValue(header, skipOws(header, at + 1, end), end, false);
      if (at < 0) return undefined;
      c = header.charCodeAt(at);
    }
    if (at === end) return header;
    if (c !== 0x2c /* , */) return undefined;
    at = skipOws(header, at + 1, end);
  }
}

/**
 * Parses `key OWS "=" OWS value` from `at` (the value optional unless `valueRequired`) and
 * skips the whitespace after it. Returns where the next `;`, `,` or the end is, or -1.
 */
function keyValue(s: string, at: number, end: number, valueRequired: boolean): number {
  const keyStart = at;
  while (at < end && isTchar(s.charCodeAt(at))) at++;
  if (at === keyStart) return -1;
  at = skipOws(s, at, end);
  if (at === end || s.charCodeAt(at) !== 0x3d /* = */) return valueRequired ? -1 : at;
  at = skipOws(s, at + 1, end);
  while (at < end) {
    const c = s.charCodeAt(at);
    if (c === 0x25 /* % */) {
      if (!isHexDigit(s.charCodeAt(at + 1)) || !isHexDigit(s.charCodeAt(at + 2))) return -1;
      at += 3;
    } else if (isBaggageOctet(c)) {
      at++;
    } else {
      break;
    }
  }
  // No "%XX" can straddle `end`: what follows it is whitespace, never a hex digit.
  return skipOws(s, at, end);
}

/** Repeated header lines as one list; `undefined` for anything but an array of strings. */
function joinLines(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const line of value) if (typeof line !== 'string') return undefined;
  return value.join(',');
}

/** %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: visible ASCII except `"` `,` `;` `\`. */
function isBaggageOctet(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

/** RFC 7230 tchar: ALPHA / DIGIT / one of !#$%&'*+-.^_`|~ */
function isTchar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  switch (c) {
    case 0x21:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x27:
    case 0x2a:
    case 0x2b:
    case 0x2d:
    case 0x2e:
    case 0x5e:
    case 0x5f:
    case 0x60:
    case 0x7c:
    case 0x7e:
      return true;
    default:
      return false;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
