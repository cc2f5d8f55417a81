import type { CheckStatus } from './check-result.ts';

export type ProbeKind = 'liveness' | 'readiness';

/** One line of a probe answer: a check, a gate, or a lifecycle condition. */
export interface ProbeEntry {
  readonly name: string;
  readonly type: 'check' | 'gate' | 'lifecycle';
  readonly status: CheckStatus;
  readonly reason?: string;
  /** Check duration in ms; absent for gates and lifecycle entries. */
  readonly durationMs?: number;
  /** `Date.now()` when this entry's state was observed. */
  readonly at: number;
}

export interface ProbeReport {
  readonly kind: ProbeKind;
  /** fail when any entry fails; warn when any warns; else pass. */
  readonly status: CheckStatus;
  readonly entries: readonly ProbeEntry[];
  /** Names asked for in `?exclude=` that match nothing (already sanitised). */
  readonly unknownExcludes: readonly string[];
}

export function overallStatus(entries: readonly ProbeEntry[]): CheckStatus {
  let status: CheckStatus = 'pass';
  for (const entry of entries) {
    if (entry.status === 'fail') return 'fail';
    if (entry.status === 'warn') status = 'warn';
  }
  return status;
}
