import type { Backend } from '../backend.ts';
import { backendReport } from './backends-report.ts';
import type { RequestWindow } from './request-window.ts';
import { roundMs, type SecondPoint } from './second-series.ts';

/** Points of history each snapshot repeats, so a client that missed a tick or two has no gap. */
export const RECENT_POINTS = 5;

/** Figures over the last 10 s, and the last seconds of history. */
export interface TrafficView {
  /** Finished attempts per second. */
  readonly rps: number;
  /** Share of attempts answered below 500 (0-1); null without attempts. */
  readonly successRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** `[requests, p99Ms]` of the last {@link RECENT_POINTS} seconds, the last one being `second`. */
  readonly recent: readonly SecondPoint[];
}

/** One backend as the dashboard shows it. */
export interface BackendView extends TrafficView {
  /** `host:port`, what the drain API takes. */
  readonly name: string;
  readonly url: string;
  /** warming, ready, draining, down or removed. */
  readonly state: string;
  /** Share of its weight a backend in slow start gets now (0-100); null outside slow start. */
  readonly slowStartPercent: number | null;
  /** Who drained it on purpose, if anyone. */
  readonly drain: 'operator' | 'discovery' | null;
  readonly ejected: boolean;
  readonly ejectedForMs: number;
  readonly weight: number;
  readonly effectiveWeight: number;
  readonly inFlight: number;
  /** The peak-EWMA latency estimate the balancer compares. */
  readonly ewmaMs: number;
  readonly requests: number;
  readonly failures: number;
  readonly lastCheck: string | null;
}

/** The `snapshot` event, sent every second. */
export interface DashboardSnapshot {
  /** Wall-clock time of the snapshot, ms since the epoch. */
  readonly time: number;
  /** The last whole second, on the balancer's own clock: the index of the newest history point. */
  readonly second: number;
  readonly algorithm: string;
  readonly discovery: string;
  readonly panic: boolean;
  /** Client requests being proxied. */
  readonly inFlight: number;
  /** The whole balancer's traffic. */
  readonly total: TrafficView;
  readonly backends: readonly BackendView[];
}

/** The `history` event, sent once when a stream opens: one point per second, oldest first. */
export interface DashboardHistory {
  /** Index of the newest point of every series. */
  readonly second: number;
  readonly intervalMs: number;
  readonly total: readonly SecondPoint[];
  readonly backends: ReadonlyArray<{ readonly url: string; readonly points: readonly SecondPoint[] }>;
}

/** The traffic figures of one window. */
export function trafficView(window: RequestWindow, now: number): TrafficView {
  const summary = window.summary(now);
  return {
    rps: Math.round(summary.rps * 100) / 100,
    successRate: summary.successRate === null ? null : Math.round(summary.successRate * 10_000) / 10_000,
    p50Ms: summary.p50Ms === null ? null : roundMs(summary.p50Ms),
    p99Ms: summary.p99Ms === null ? null : roundMs(summary.p99Ms),
    recent: window.historyAt(now).points(RECENT_POINTS),
  };
}

/** One backend: its `/api/backends` report and its traffic. */
export function backendView(backend: Backend, now: number): BackendView {
  const report = backendReport(backend, now);
  return {
    name: report.name,
    url: report.url,
    state: report.state,
    slowStartPercent:
      report.slowStart && report.weight > 0
        ? Math.min(100, Math.round((report.effectiveWeight / report.weight) * 100))
        : null,
    drain: report.drain,
    ejected: report.ejected,
    ejectedForMs: report.ejectedForMs,
    weight: report.weight,
    effectiveWeight: report.effectiveWeight,
    inFlight: report.inFlight,
    ewmaMs: roundMs(report.latencyEwmaMs),
    requests: report.requests,
    failures: report.failures,
    lastCheck: report.lastCheck,
    ...trafficView(backend.window, now),
  };
}
