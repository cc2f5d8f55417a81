import type { ServerResponse } from 'node:http';
import { writeBody as writeKitBody, writePlain } from '@readykit/health/http-response';

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

const VARY_ACCEPT: readonly string[] = Object.freeze(['Vary', 'Accept']);

/** Writes a whole answer through the kit's one writer; a 200 varies with Accept (text or OpenMetrics). */
export function writeBody(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head: boolean,
): void {
  writeKitBody(res, status, type, body, head, status === 200 ? VARY_ACCEPT : undefined);
}

export { writePlain };
