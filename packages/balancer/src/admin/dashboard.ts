import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeBody } from '@readykit/health/http-response';
import type { Backend } from '../backend.ts';
import type { BackendSet } from '../backend-set.ts';
import { invalidConfig } from '../errors.ts';
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './dashboard-page.ts';
import {
  type BackendView,
  backendView,
  type DashboardHistory,
  type DashboardSnapshot,
  trafficView,
} from './dashboard-snapshot.ts';
import { EventStreamHub, formatEvent } from './event-stream-hub.ts';
import type { RequestWindow } from './request-window.ts';

/** What the {@link Dashboard} reads from the balancer. */
export interface DashboardSource {
  readonly backends: BackendSet;
  /** The algorithm and discovery source now (both may change on a config reload). */
  describe(): { readonly algorithm: string; readonly discovery: string };
  /** Client requests being proxied. */
  inFlight(): number;
  /** The whole balancer's finished attempts. */
  readonly window: RequestWindow;
  readonly log: (line: string) => void;
}

/** Limits of the {@link Dashboard}. */
export interface DashboardOptions {
  /** Event streams open at once (dashboard tabs); more get 503. @default 16 */
  readonly maxClients?: number;
  /** How long a removed backend stays on the dashboard once its requests in flight are done, in ms. @default 30000 */
  readonly removedRetentionMs?: number;
}

const TICK_MS = 1000;
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2000;
// Removed backends shown at most; a discovery churning through addresses must not grow memory.
const MAX_REMOVED = 64;
const PAGE_PATHS = new Set(['/', '/dashboard']);
const ALLOW_GET: readonly string[] = Object.freeze(['Allow', 'GET']);

/**
 * The live dashboard on the admin listener: the page at `/` (one self-contained HTML document,
 * no data in it, so served without a token) and its feed at `GET /api/events`, Server-Sent
 * Events with the history of the last five minutes on connect and a snapshot of every backend
 * each second. The feed sits under `/api/`, behind the admin token when one is set. Backends
 * discovery removed stay listed as `removed` until their requests in flight are done and a
 * while after, so an operator sees them go.
 */
export class Dashboard {
  readonly #source: DashboardSource;
  readonly #hub: EventStreamHub;
  readonly #retentionMs: number;
  // Removed backends still shown, with the last time each had requests in flight.
  readonly #removed = new Map<Backend, number>();
  readonly #unsubscribe: () => void;

  constructor(source: DashboardSource, options: DashboardOptions = {}) {
    const maxClients = options.maxClients ?? 16;
    if (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > 1000) {
      throw invalidConfig('dashboard.maxClients', 'a whole number from 1 to 1000', maxClients);
    }
    const retention = options.removedRetentionMs ?? 30_000;
    if (!Number.isFinite(retention) || retention < 0) {
      throw invalidConfig('dashboard.removedRetentionMs', 'a non-negative number of milliseconds', retention);
    }
    this.#source = source;
    this.#retentionMs = retention;
    this.#hub = new EventStreamHub({
      maxClients,
      intervalMs: TICK_MS,
      heartbeatMs: HEARTBEAT_MS,
      retryMs: RETRY_MS,
      tick: () => this.#tick(),
    });
    this.#unsubscribe = source.backends.onChange((backend) => {
      if (backend.state !== 'removed') return;
      const now = performance.now();
      this.#removed.set(backend, now);
      this.#prune(now);
    });
  }

  /** Event streams open now. */
  get clients(): number {
    return this.#hub.size;
  }

  /** Answers `/`, `/dashboard` and `/api/events`; false for every other path. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const head = req.method === 'HEAD';
    if (PAGE_PATHS.has(path)) {
      if (req.method !== 'GET' && !head) writeBody(res, 405, 'text/plain', 'method not allowed\n', head);
      else writeBody(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, head, DASHBOARD_HEADERS);
      return true;
    }
    if (path !== '/api/events') return false;
    if (req.method !== 'GET') {
      writeBody(res, 405, 'text/plain', 'method not allowed\n', head, ALLOW_GET);
      return true;
    }
    const now = performance.now();
    const first =
      formatEvent('history', JSON.stringify(this.history(now))) +
      formatEvent('snapshot', JSON.stringify(this.snapshot(now)));
    const opened = this.#hub.open(res, first);
    if (opened !== 'opened') {
      const message = opened === 'full' ? 'too many dashboard streams open\n' : 'shutting down\n';
      writeBody(res, 503, 'text/plain; charset=utf-8', message, false, ['Retry-After', '5']);
    }
    return true;
  };

  /** Every backend (removed ones still shown included) with its figures now. */
  snapshot(now: number = performance.now()): DashboardSnapshot {
    const { backends } = this.#source;
    backends.candidates(now); // refreshes the panic verdict, which only a rebuild makes
    const views: BackendView[] = [];
    for (const backend of backends.all()) views.push(backendView(backend, now));
    this.#prune(now);
    for (const backend of this.#removed.keys()) views.push(backendView(backend, now));
    const { algorithm, discovery } = this.#source.describe();
    return {
      time: Date.now(),
      second: Math.floor(now / 1000) - 1,
      algorithm,
      discovery,
      panic: backends.panic,
      inFlight: this.#source.inFlight(),
      total: trafficView(this.#source.window, now),
      backends: views,
    };
  }

  /** The last five minutes of every series, one point per second. */
  history(now: number = performance.now()): DashboardHistory {
    const backends: Array<DashboardHistory['backends'][number]> = [];
    this.#prune(now);
    for (const backend of [...this.#source.backends.all(), ...this.#removed.keys()]) {
      backends.push({ url: backend.id, points: backend.window.historyAt(now).points() });
    }
    return {
      second: Math.floor(now / 1000) - 1,
      intervalMs: TICK_MS,
      total: this.#source.window.historyAt(now).points(),
      backends,
    };
  }

  /** Ends every event stream and refuses new ones, so the admin listener closes at once. */
  close(): void {
    this.#unsubscribe();
    this.#hub.close(formatEvent('closing', '{}'));
  }

  #tick(): string {
    try {
      return formatEvent('snapshot', JSON.stringify(this.snapshot()));
    } catch (error) {
      this.#source.log(
        `dashboard: snapshot failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return '';
    }
  }

  /**
   * Forgets removed backends once done: no requests in flight for the retention time, or
   * back in the set under the same URL, or beyond the cap (oldest first).
   */
  #prune(now: number): void {
    for (const [backend, lastBusy] of this.#removed) {
      if (backend.inFlight > 0) this.#removed.set(backend, now);
      else if (now - lastBusy >= this.#retentionMs || this.#source.backends.find(backend.id) !== undefined) {
        this.#removed.delete(backend);
      }
    }
    for (const backend of this.#removed.keys()) {
      if (this.#removed.size <= MAX_REMOVED) break;
      this.#removed.delete(backend);
    }
  }
}
