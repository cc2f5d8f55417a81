import { LOAD_REPORT_HEADER, parseLoadReport } from '@readykit/metrics';
import { HeaderNameSet } from '../proxy/hop-by-hop.ts';

/**
 * Names the backend's load report travels under. It is meant for the balancer alone: callers
 * behind the proxy and the dispatcher never see it.
 */
export const LOAD_REPORT_NAMES = new HeaderNameSet([LOAD_REPORT_HEADER]);

/**
 * The utilization a backend reported in its `endpoint-load-metrics` response header (ORCA's
 * `application_utilization`, else `cpu_utilization`), or undefined when it sent none or a
 * malformed one. Of repeated headers the last counts.
 */
export function reportedUtilization(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const one = typeof value === 'string' ? value : value.at(-1);
  return one === undefined ? undefined : parseLoadReport(one)?.utilization;
}
