import type { DemoProcess } from './child-process.ts';

/** One backend as the terminal view shows it. */
export interface BackendRow {
  readonly url: string;
  /** warming, ready, slow start n %, draining, down, … as the balancer says. */
  readonly state: string;
  /** Share of the traffic it took recently (0-100); null before any. */
  readonly sharePercent: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Failed answers so far, as the balancer counts them. */
  readonly errors: number;
}

/** The balancer in front of the services: the reference one or HAProxy. */
export interface FrontBalancer {
  readonly kind: 'readykit' | 'haproxy';
  /** Where the load goes. */
  readonly url: string;
  /** The page to open in a browser. */
  readonly dashboard: string;
  readonly process: DemoProcess;
  /** The backend's state in rotation terms: `ready` (takes traffic), `warming`, `draining`, `down`, or undefined when unknown. */
  state(backendUrl: string): Promise<string | undefined>;
  /** The latest per-backend figures (refreshed in the background about once a second). */
  rows(): readonly BackendRow[];
  /** Replaces the backend list while running; undefined when the balancer cannot. */
  readonly setBackends: ((urls: readonly string[]) => Promise<void>) | undefined;
  /** Stops the balancer and its background polling. */
  stop(): Promise<void>;
}
