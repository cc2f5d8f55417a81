import type { ServerResponse } from 'node:http';

// RFC 9110 7.6.1: meaningful for one connection only. Node writes its own framing
// (Transfer-Encoding or Content-Length as it sees fit) and Connection.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
] as const;

/**
 * Sends a backend's status and headers to the client without its hop-by-hop headers (those
 * listed above and any the backend's `Connection` header names). `headers` is undici's parsed
 * object for this response alone, so it is edited in place.
 */
export function writeResponseHead(
  res: ServerResponse,
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  statusMessage: string | undefined,
): void {
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of String(connection).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && name !== 'close' && name !== 'keep-alive') delete headers[name];
    }
  }
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  if (statusMessage) res.writeHead(statusCode, statusMessage, headers as Record<string, string | string[]>);
  else res.writeHead(statusCode, headers as Record<string, string | string[]>);
}
