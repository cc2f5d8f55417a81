import type { CheckResult } from './check-result.ts';
import type { EventLoopMonitor } from './event-loop-monitor.ts';
import type { HealthCheck } from './health-check.ts';
import type { LifecycleState } from './lifecycle.ts';
import { overallStatus, type ProbeEntry, type ProbeKind, type ProbeReport } from './probe-report.ts';
import type { ReadinessGate } from './readiness-gate.ts';
import { isName } from './validate.ts';

export interface ReportOptions {
  /** Names to leave out of the run and the verdict. */
  readonly exclude?: readonly string[];
  /** Only this check or gate; the report is empty when the name is unknown. */
  readonly only?: string;
}

/** What a verdict is made of, read from the health instance at probe time. */
export interface ReportSources {
  readonly state: LifecycleState;
  readonly shuttingDown: boolean;
  readonly gates: Iterable<ReadinessGate>;
  readonly minWarmTime: number;
  /** Milliseconds of the minimum warm time still to go. */
  readonly warmLeft: number;
  readonly checks: Iterable<HealthCheck>;
  /** Liveness only: the built-in event loop entry. */
  readonly eventLoop: EventLoopMonitor | undefined;
}

export const EVENT_LOOP_ENTRY = 'eventloop';

/**
 * Builds a probe verdict. Synchronous whenever no check has to run (no checks, or every
 * check in background mode): probes then answer without a single promise in the way.
 */
export function buildReport(
  kind: ProbeKind,
  options: ReportOptions,
  sources: ReportSources,
): ProbeReport | Promise<ProbeReport> {
  const exclude = options.exclude ?? [];
  const wanted = (name: string): boolean =>
    options.only === undefined ? !exclude.includes(name) : name === options.only;
  const now = Date.now();
  const entries: ProbeEntry[] = [];
  const known: string[] = [];
  const add = (entry: ProbeEntry): void => {
    known.push(entry.name);
    if (wanted(entry.name)) entries.push(entry);
  };
  if (kind === 'readiness') addReadinessEntries(sources, now, add);
  else if (sources.eventLoop !== undefined) add(eventLoopEntry(sources.eventLoop, now));

  const checks: HealthCheck[] = [];
  const results: Array<CheckResult | Promise<CheckResult>> = [];
  let pending = false;
  for (const check of sources.checks) {
    known.push(check.name);
    if (!wanted(check.name)) continue;
    const result = check.current();
    pending ||= result instanceof Promise;
    checks.push(check);
    results.push(result);
  }
  const finish = (done: readonly CheckResult[]): ProbeReport => {
    for (let i = 0; i < checks.length; i++) {
      const r = done[i]!;
      const entry: ProbeEntry = {
        name: checks[i]!.name,
        type: 'check',
        status: r.status,
        durationMs: r.durationMs,
        at: r.at,
      };
      entries.push(r.reason === undefined ? entry : { ...entry, reason: r.reason });
    }
    return { kind, status: overallStatus(entries), entries, unknownExcludes: unknown(exclude, known) };
  };
  return pending ? Promise.all(results).then(finish) : finish(results as CheckResult[]);
}

function addReadinessEntries(sources: ReportSources, now: number, add: (entry: ProbeEntry) => void): void {
  const { state, shuttingDown } = sources;
  if (state === 'starting')
    add({ name: 'started', type: 'lifecycle', status: 'fail', reason: 'not listening yet', at: now });
  add(
    shuttingDown
      ? { name: 'shutdown', type: 'lifecycle', status: 'fail', reason: state, at: now }
      : { name: 'shutdown', type: 'lifecycle', status: 'pass', at: now },
  );
  for (const gate of sources.gates) {
    add(
      gate.isOpen
        ? { name: gate.name, type: 'gate', status: 'pass', at: gate.openedAt }
        : { name: gate.name, type: 'gate', status: 'fail', reason: gate.reason, at: now },
    );
  }
  if (sources.minWarmTime > 0) {
    const left = Math.ceil(sources.warmLeft);
    add(
      left <= 0 || state === 'ready' || shuttingDown
        ? { name: 'warmup', type: 'lifecycle', status: 'pass', at: now }
        : {
            name: 'warmup',
            type: 'lifecycle',
            status: 'fail',
            reason: `${left} ms of minWarmTime left`,
            at: now,
          },
    );
  }
}

function eventLoopEntry(monitor: EventLoopMonitor, now: number): ProbeEntry {
  const blocked = monitor.blockedMs();
  return blocked === 0
    ? { name: EVENT_LOOP_ENTRY, type: 'check', status: 'pass', at: now }
    : {
        name: EVENT_LOOP_ENTRY,
        type: 'check',
        status: 'fail',
        reason: `event loop blocked for ${Math.round(blocked)} ms`,
        at: now,
      };
}

/** Asked-for exclusions that match nothing, deduplicated; unsafe names are never echoed. */
function unknown(exclude: readonly string[], known: readonly string[]): string[] {
  if (exclude.length === 0) return [];
  const names = exclude.filter((n) => !known.includes(n)).map((n) => (isName(n) ? n : '(invalid name)'));
  return [...new Set(names)];
}
