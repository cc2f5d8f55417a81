import type { ServerResponse } from 'node:http';
import { LOAD_REPORT_NAMES } from '../load/load-report-header.ts';
import { forwardableResponseHeaders } from './hop-by-hop.ts';

/**
 * Sends a backend's status and headers to the client without its hop-by-hop headers (the same
 * filter as requests) and without its load report (for the balancer only), as one flat array: Node then writes its own framing and `Connection`.
 * Reads undici's raw header list (HTTP/1); `parsed` is used only when there is none.
 */
export function writeResponseHead(
  res: ServerResponse,
  statusCode: number,
  raw: unknown,
  parsed: Record<string, string | string[] | undefined>,
  statusMessage: string | undefined,
): void {
  const headers: string[] = [];
  forwardableResponseHeaders(Array.isArray(raw) ? raw : flatten(parsed), headers, LOAD_REPORT_NAMES);
  if (statusMessage) res.writeHead(statusCode, statusMessage, headers);
  else res.writeHead(statusCode, headers);
}

function flatten(parsed: Record<string, string | string[] | undefined>): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) flat.push(name, one);
  }
  return flat;
}
