import type { ServerResponse } from 'node:http';

/**
 * Whether a request target is `path`, allowing a query string and one trailing slash.
 * Runs for every request that reaches `handle()`: no allocation on the miss path.
 */
export function matchesPath(url: string, path: string): boolean {
  if (!url.startsWith(path)) return false;
  if (url.length === path.length) return true;
  const next = url.charCodeAt(path.length);
  if (next === 63 /* ? */) return true;
  if (next !== 47 /* / */ || path === '/') return false;
  return url.length === path.length + 1 || url.charCodeAt(path.length + 1) === 63;
}

/** Writes a whole answer with one writeHead; never cached, never sniffed. */
export function writeBody(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
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
  ];
  if (status === 200) headers.push('Vary', 'Accept');
  if (status === 405) headers.push('Allow', 'GET, HEAD');
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}

export function writePlain(res: ServerResponse, status: number, body: string, head: boolean): void {
  writeBody(res, status, 'text/plain; charset=utf-8', body, head);
}
