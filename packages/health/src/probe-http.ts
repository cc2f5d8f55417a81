import type { ServerResponse } from 'node:http';
import { formatHealthJson, formatText } from './probe-format.ts';
import type { ProbeReport } from './probe-report.ts';
import type { ProbeRequest } from './probe-request.ts';

const CONTENT_TYPES = {
  text: 'text/plain; charset=utf-8',
  'health+json': 'application/health+json',
  json: 'application/json',
} as const;

/** Writes a probe verdict: 200 when it passes (pass or warn), 503 when it fails. */
export function writeProbeReport(
  res: ServerResponse,
  report: ProbeReport,
  request: ProbeRequest,
  exposeReasons: boolean,
): void {
  const options = { verbose: request.verbose, exposeReasons };
  const body = request.format === 'text' ? formatText(report, options) : formatHealthJson(report, options);
  writeProbeBody(
    res,
    report.status === 'fail' ? 503 : 200,
    CONTENT_TYPES[request.format],
    body,
    request.head,
  );
}

/** Writes a short plain-text answer; 405 also names the allowed methods. */
export function writePlain(res: ServerResponse, status: number, body: string, head: boolean): void {
  if (status === 405 && !res.headersSent) res.setHeader('Allow', 'GET, HEAD');
  writeProbeBody(res, status, CONTENT_TYPES.text, body, head);
}

function writeProbeBody(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  head: boolean,
): void {
  if (res.headersSent || res.destroyed) return;
  // One writeHead with a flat array: the cheapest way through Node's header handling, and
  // this runs for every probe. Headers set earlier (Connection: close while draining) stay.
  res.writeHead(status, [
    'Content-Type',
    type,
    'Cache-Control',
    'no-store',
    'X-Content-Type-Options',
    'nosniff',
    'Content-Length',
    String(Buffer.byteLength(body)),
  ]);
  res.end(head ? undefined : body);
}
