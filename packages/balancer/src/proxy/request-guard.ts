import { isValidHost } from './host-header.ts';

/** Why a request is refused before any backend sees it: the status to answer and a fixed reason. */
export interface Refusal {
  readonly status: number;
  /** A short fixed phrase, never a piece of the request: safe for a response body and logs. */
  readonly reason: string;
}

function refusal(status: number, reason: string): Refusal {
  return Object.freeze({ status, reason });
}

/**
 * Every refusal {@link refuseRequest} returns, one shared frozen object each: compare by
 * identity or `status`. Node's own parser answers 400 before the handler runs for framing it
 * cannot read (Content-Length with Transfer-Encoding, a repeated or non-numeric Content-Length,
 * repeated or non-final `chunked`, obs-fold, bare LF, invalid characters, a request-target that
 * is neither origin-form, absolute-form nor `*`, a missing Host in HTTP/1.1), 431 for headers
 * over `maxHeaderSize`, and 417 for an `Expect` other than `100-continue`; the checks below
 * that overlap are kept for servers built with other parser settings.
 */
export const Refusals = Object.freeze({
  /** HTTP/0.9 and `HTTP/2.0` on an HTTP/1 connection, which Node lets through. */
  version: refusal(505, 'unsupported HTTP version'),
  /** The engine does not tunnel. Node only passes CONNECT to a `'connect'` listener. */
  connect: refusal(405, 'CONNECT not allowed'),
  /**
   * TRACE echoes the request as the backend received it, with what this proxy added (client
   * addresses, internal ids) and the client's credentials (cross-site tracing); nginx refuses it too.
   */
  trace: refusal(405, 'TRACE not allowed'),
  /** Not `/...`, absolute-form http(s), or `*` with OPTIONS; or a fragment, or userinfo. */
  target: refusal(400, 'invalid request target'),
  /** Absolute-form whose authority is not the Host header: which one to route by is ambiguous. */
  authority: refusal(400, 'request target does not match Host'),
  /** HTTP/1.1 requires exactly one valid Host (RFC 9112 3.2). */
  hostMissing: refusal(400, 'missing Host header'),
  hostRepeated: refusal(400, 'repeated Host header'),
  hostInvalid: refusal(400, 'invalid Host header'),
  /** RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty. */
  transferEncodingHttp10: refusal(400, 'Transfer-Encoding in HTTP/1.0'),
  /** Only `chunked` alone: the proxy would forward a body still in another coding, unlabelled. */
  transferEncoding: refusal(501, 'unsupported Transfer-Encoding'),
  contentLength: refusal(400, 'invalid Content-Length'),
  contentLengthWithTransferEncoding: refusal(400, 'Content-Length with Transfer-Encoding'),
  /** The engine does not tunnel upgraded connections. Other upgrades (h2c) are ignored, as RFC 9110 7.8 allows. */
  websocket: refusal(501, 'WebSocket not supported'),
});

/** What the guard reads of a request; `IncomingMessage` has all of it. */
export interface GuardedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: readonly string[];
}

/**
 * The reason to refuse a request before any backend sees it, or `undefined` to forward it.
 * One pass over the raw headers, and nothing allocated for an ordinary request.
 *
 * `OPTIONS *` passes (it is valid HTTP), but undici cannot send an asterisk-form target:
 * the engine answers it itself.
 */
export function refuseRequest(req: GuardedRequest): Refusal | undefined {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return Refusals.version;
  const method = req.method;
  if (method === 'CONNECT') return Refusals.connect;
  if (method === 'TRACE') return Refusals.trace;

  const raw = req.rawHeaders;
  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const length = name.length;
    // host 4, upgrade 7, content-length 14, transfer-encoding 17: skip the rest unread.
    if (length !== 4 && length !== 7 && length !== 14 && length !== 17) continue;
    const lower = name.toLowerCase();
    const value = raw[i + 1]!;
    if (lower === 'host') {
      host = value;
      hosts++;
    } else if (lower === 'content-length') {
      if (!isDigits(value) || (contentLength !== undefined && value !== contentLength)) {
        return Refusals.contentLength;
      }
      contentLength = value;
    } else if (lower === 'transfer-encoding') {
      // A second line makes the codings a list: `chunked` alone is all that is accepted.
      if (transferEncoding !== undefined) return Refusals.transferEncoding;
      transferEncoding = value;
    } else if (lower === 'upgrade' && value.toLowerCase().includes('websocket')) {
      return Refusals.websocket;
    }
  }

  if (hosts > 1) return Refusals.hostRepeated;
  if (host === undefined) {
    if (req.httpVersionMinor === 1) return Refusals.hostMissing;
  } else if (host.length > 0 && !isValidHost(host)) {
    return Refusals.hostInvalid;
  }
  if (transferEncoding !== undefined) {
    if (req.httpVersionMinor === 0) return Refusals.transferEncodingHttp10;
    if (contentLength !== undefined) return Refusals.contentLengthWithTransferEncoding;
    if (transferEncoding.trim().toLowerCase() !== 'chunked') return Refusals.transferEncoding;
  }
  return refuseTarget(req.url ?? '', method, host);
}

function refuseTarget(
  url: string,
  method: string | undefined,
  host: string | undefined,
): Refusal | undefined {
  if (url.includes('#')) return Refusals.target;
  if (url.charCodeAt(0) === 0x2f /* / */) return undefined;
  if (url === '*') return method === 'OPTIONS' ? undefined : Refusals.target;
  const authorityAt = authorityStart(url);
  if (authorityAt < 0) return Refusals.target;
  const authorityEnd = pathStart(url, authorityAt);
  if (authorityEnd === authorityAt) return Refusals.target;
  const authority = url.slice(authorityAt, authorityEnd);
  if (!isValidHost(authority)) return Refusals.target;
  // RFC 9112 3.2.2 has a proxy replace Host with the authority; refusing a mismatch instead
  // keeps one answer to "which virtual host is this" for the balancer and every backend.
  if (host === undefined || host.toLowerCase() !== authority.toLowerCase()) return Refusals.authority;
  return undefined;
}

/** Where the authority of an absolute-form `http://` or `https://` target starts, else -1. */
function authorityStart(url: string): number {
  const colon = url.indexOf('://');
  if (colon < 0) return -1;
  const scheme = url.slice(0, colon).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? colon + 3 : -1;
}

function pathStart(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */) return i;
  }
  return url.length;
}

/**
 * The target to send a backend, in origin-form: `req.url` as it is, or, for an absolute-form
 * target (Node leaves `http://host/path?q` in `req.url`), its path and query (`/` when empty).
 * Call it on requests {@link refuseRequest} let through.
 */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 0x2f /* / */) return url;
  const authorityAt = authorityStart(url);
  if (authorityAt < 0) return url;
  const at = pathStart(url, authorityAt);
  if (at === url.length) return '/';
  return url.charCodeAt(at) === 0x2f ? url.slice(at) : `/${url.slice(at)}`;
}

function isDigits(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
