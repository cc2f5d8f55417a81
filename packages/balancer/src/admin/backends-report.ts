import type { Backend } from '../backend.ts';
import type { BackendSet } from '../backend-set.ts';
import type { CheckOutcome } from '../health/readiness-tracker.ts';

/** What `/api/backends` answers for one backend. */
export interface BackendReport {
  readonly url: string;
  /** `host:port`, the name `POST /api/backends/{name}/drain` takes. */
  readonly name: string;
  readonly state: string;
  /** Who drained it on purpose (its own readiness 503 shows in `state` alone). */
  readonly drain: 'operator' | 'discovery' | null;
  readonly weight: number;
  readonly effectiveWeight: number;
  readonly slowStart: boolean;
  readonly ejected: boolean;
  readonly ejectedForMs: number;
  readonly inFlight: number;
  readonly latencyEwmaMs: number;
  /** The utilization the backend last reported (endpoint-load-metrics), faded; null without reports. */
  readonly reportedUtilization: number | null;
  readonly requests: number;
  readonly failures: number;
  readonly retries: number;
  readonly ejections: number;
  readonly lastCheck: string | null;
}

/** What `/api/backends` answers. */
export interface BackendsReport {
  readonly algorithm: string;
  readonly discovery: string;
  readonly panic: boolean;
  readonly inFlight: number;
  readonly backends: readonly BackendReport[];
}

/** A snapshot of every backend, for `/api/backends` and the dashboard. */
export function backendsReport(
  backends: BackendSet,
  algorithm: string,
  discovery: string,
  inFlight: number,
): BackendsReport {
  const now = performance.now();
  backends.candidates(now); // refreshes the panic verdict
  return {
    algorithm,
    discovery,
    panic: backends.panic,
    inFlight,
    backends: [...backends.all()].map((backend) => backendReport(backend, now)),
  };
}

/** What `/api/backends` answers for one backend. */
export function backendReport(backend: Backend, now: number): BackendReport {
  const ejected = backend.outlier.isEjected(now);
  return {
    url: backend.id,
    name: backend.name,
    state: backend.state,
    drain: backend.drainedBy ?? null,
    weight: backend.weight,
    effectiveWeight: round(backend.effectiveWeight),
    slowStart: backend.state === 'ready' && backend.inSlowStart(now),
    ejected,
    ejectedForMs: ejected ? Math.ceil(backend.outlier.ejectedUntil - now) : 0,
    inFlight: backend.inFlight,
    latencyEwmaMs: round(backend.latencyMs(now)),
    reportedUtilization: backend.load.reported ? round(backend.load.utilization(now)) : null,
    requests: backend.stats.requests,
    failures: backend.stats.failures,
    retries: backend.stats.retries,
    ejections: backend.stats.ejections,
    lastCheck: describeOutcome(backend.readiness.lastOutcome),
  };
}

function describeOutcome(outcome: CheckOutcome | undefined): string | null {
  if (outcome === undefined) return null;
  if (outcome.kind === 'ready') return 'ready';
  if (outcome.kind === 'not-ready') return `not ready (${outcome.status})`;
  return `failed: ${outcome.reason}`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
