import type { ServerResponse } from 'node:http';

const NO_HEADERS: readonly string[] = Object.freeze([]);

/**
 * Writes a whole small answer of readykit's own (probes, scrapes, refusals): never cached,
 * never sniffed, `Allow: GET, HEAD` on 405 unless `extraHeaders` names its own. One writeHead with a flat array, the cheapest way through
 * Node's header handling; headers set earlier (Connection: close while draining) stay.
 * `extraHeaders` is a flat name/value list.
 */
export function writeBody(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
  extraHeaders: readonly string[] = NO_HEADERS,
): void {
  if (res.headersSent || res.destroyed) return;
  const headers = [
    'Content-Type',
    type,
    'Cache-Control',
    'no-store',
    'X-Content-Type-Options',
    'nosniff',
    'Content-Length',
    String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
    ...extraHeaders,
  ];
  if (status === 405 && !extraHeaders.includes('Allow')) headers.push('Allow', 'GET, HEAD');
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}

/** A short plain-text answer. */
export function writePlain(res: ServerResponse, status: number, body: string, head: boolean): void {
  writeBody(res, status, 'text/plain; charset=utf-8', body, head);
}
