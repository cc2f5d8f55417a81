import type { ProbeEntry, ProbeReport } from './probe-report.ts';

export interface FormatOptions {
  readonly verbose: boolean;
  readonly exposeReasons: boolean;
}

const WITHHELD = 'reason withheld';
const SUMMARY = { pass: 'passed', warn: 'passed with warnings', fail: 'failed' } as const;

/**
 * The Kubernetes API server's text format: `ok` when passing and not verbose; otherwise one
 * `[+]name ok` / `[-]name failed: reason` line per entry, then a summary line. A non-critical
 * failure prints `[!]name warn: reason`: listed even without `?verbose`, but the probe passes.
 */
export function formatText(report: ProbeReport, options: FormatOptions): string {
  if (report.status === 'pass' && !options.verbose && report.unknownExcludes.length === 0) return 'ok\n';
  let out = '';
  for (const entry of report.entries) out += `${line(entry, options.exposeReasons)}\n`;
  if (report.unknownExcludes.length > 0) {
    out += `warn: some health checks cannot be excluded: no matches for ${report.unknownExcludes.map((n) => `"${n}"`).join(', ')}\n`;
  }
  out += `${report.kind} check ${SUMMARY[report.status]}\n`;
  return out;
}

function line(entry: ProbeEntry, exposeReasons: boolean): string {
  const reason = exposeReasons ? (entry.reason ?? 'failed') : WITHHELD;
  if (entry.status === 'pass') return `[+]${entry.name} ok`;
  if (entry.status === 'warn') return `[!]${entry.name} warn: ${reason}`;
  return `[-]${entry.name} failed: ${reason}`;
}

/**
 * The IETF health check response format (draft-inadarei-api-health-check): `status`
 * pass/warn/fail, `checks` keyed by name, each an array with one object carrying the
 * component type, status, duration (`observedValue` in ms) and time.
 */
export function formatHealthJson(report: ProbeReport, options: FormatOptions): string {
  const checks: Record<string, unknown[]> = {};
  for (const entry of report.entries) {
    const item: Record<string, unknown> = {
      componentType: entry.type,
      status: entry.status,
      time: new Date(entry.at).toISOString(),
    };
    if (entry.durationMs !== undefined) {
      item.observedValue = Math.round(entry.durationMs * 1000) / 1000;
      item.observedUnit = 'ms';
    }
    if (entry.status !== 'pass') item.output = options.exposeReasons ? (entry.reason ?? 'failed') : WITHHELD;
    checks[entry.name] = [item];
  }
  const body: Record<string, unknown> = {
    status: report.status,
    description: `${report.kind} probe`,
    checks,
  };
  if (report.unknownExcludes.length > 0) {
    body.notes = [`no matches for exclude: ${report.unknownExcludes.join(', ')}`];
  }
  return `${JSON.stringify(body)}\n`;
}
