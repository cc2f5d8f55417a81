import type { ServerResponse } from 'node:http';
import { writeBody } from './http-response.ts';
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
  writeBody(res, report.status === 'fail' ? 503 : 200, CONTENT_TYPES[request.format], body, request.head);
}
