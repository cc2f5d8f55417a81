/**
 * Whether a request carries a body, from its raw headers: a `Transfer-Encoding`, or a
 * `Content-Length` other than 0 (HTTP/1.1 framing, RFC 9112 6.3; Node's parser has already
 * refused conflicting or malformed framing). Read from `rawHeaders` because building Node's
 * `req.headers` object costs more than the whole scan.
 */
export function requestHasBody(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return true;
    if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1]!.trim() !== '0')
      return true;
  }
  return false;
}
