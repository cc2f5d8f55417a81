import { isIPv6 } from 'node:net';

// RFC 9110 allows any reg-name (sub-delims and percent-encoding included), but no DNS name
// uses them and each is a way to smuggle a separator into a header built from the value
// (`,` into X-Forwarded-Host, `;` into Forwarded). 255 is DNS's limit on a name.
const MAX_NAME = 255;
const MAX_PORT = 65_535;

/**
 * True for a `Host` header (or authority) this proxy accepts and forwards: a DNS name or IPv4
 * address of letters, digits, `-`, `.` and `_`, or a bracketed IPv6 literal, optionally followed
 * by `:port` (1-5 digits, at most 65535). Stricter than RFC 9110's `uri-host`: no userinfo,
 * percent-encoding, IPv6 zone id, sub-delims, empty port or whitespace. The empty string is false; callers
 * decide whether an empty Host (allowed by RFC 9112 when the target has no authority) is fine.
 */
export function isValidHost(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  let end: number;
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    end = value.indexOf(']');
    // A zone id (`%25eth0`) names an interface of the client's host: meaningless here.
    if (end < 0 || !isIPv6(value.slice(1, end)) || value.lastIndexOf('%', end) > 0) return false;
    end++;
  } else {
    end = 0;
    while (end < length && isNameChar(value.charCodeAt(end))) end++;
    if (end === 0 || end > MAX_NAME) return false;
  }
  if (end === length) return true;
  return value.charCodeAt(end) === 0x3a /* : */ && isPort(value, end + 1);
}

function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f // _
  );
}

function isPort(s: string, start: number): boolean {
  const digits = s.length - start;
  if (digits < 1 || digits > 5) return false;
  let port = 0;
  for (let i = start; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return false;
    port = port * 10 + d;
  }
  return port <= MAX_PORT;
}
