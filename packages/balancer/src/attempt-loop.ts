import type { Backend } from './backend.ts';
import type { Cluster } from './cluster.ts';
import { classifyFailure, type FailureKind } from './proxy/failure-kind.ts';

/** Thrown into an attempt (`controller.abort`) to stop it and try another backend. */
export const RETRY_ELSEWHERE = new Error('retrying on another backend');

/**
 * The attempts of one request, whatever carries it (the proxy's client connection or a caller's
 * `fetch`): which backend each attempt goes to, what each outcome teaches the load and health
 * layers, and whether another backend may be tried. Retries go only to a backend not tried yet,
 * only for a request safe to repeat, within the request's retry limit and the cluster's budget;
 * never on a 4xx, a 500 or 501 (the backend's own answer), a timeout or a body already sent.
 */
export class AttemptLoop {
  readonly #cluster: Cluster;
  /** The request may be sent again even after a backend may have seen it. */
  readonly #retryable: boolean;
  /** The request's body (if any) can be sent again: a retry of an unsent attempt is safe. */
  readonly #replayable: boolean;
  readonly #hashKey: string | undefined;
  /** The backend of the current (or last) attempt. */
  backend: Backend | undefined;
  /** When the current attempt started, on performance.now(). */
  startedAt = 0;
  attempts = 0;
  #open = false;
  // The backend a retry goes to, chosen before deciding to retry.
  #next: Backend | undefined;
  #excluded: Set<string> | undefined;

  constructor(cluster: Cluster, retryable: boolean, replayable: boolean, hashKey: string | undefined) {
    this.#cluster = cluster;
    this.#retryable = retryable;
    this.#replayable = replayable;
    this.#hashKey = hashKey;
  }

  /**
   * Starts an attempt at `now`: on the backend chosen when the retry was decided, else on a
   * fresh pick. Counts it in flight. Undefined when no backend can take it.
   */
  begin(now: number): Backend | undefined {
    const backend = this.#next ?? this.#cluster.pick(this.#hashKey, now, this.#excluded);
    this.#next = undefined;
    if (backend === undefined) return undefined;
    this.backend = backend;
    this.attempts++;
    this.startedAt = now;
    this.#open = true;
    backend.inFlight++;
    backend.stats.requests++;
    return backend;
  }

  /**
   * Response headers arrived at `now`, with the backend's reported utilization if it sent one.
   * Feeds the latency estimate, the load report and passive health; `true` when the answer (a
   * 502, 503 or 504) is to be dropped and the request tried on another backend.
   */
  responded(status: number, now: number, utilization: number | undefined): boolean {
    const backend = this.backend!;
    // Read during a stall of this process, the response may have waited here, not at the backend.
    if (!this.#cluster.loop.stalled(now)) backend.observeLatency(now - this.startedAt, now);
    else this.#cluster.latencySamplesSkipped++;
    if (utilization !== undefined) backend.load.report(utilization, now);
    if (status < 500) {
      this.#cluster.backends.recordSuccess(backend);
      return false;
    }
    this.#cluster.backends.recordFailure(backend, now);
    return status !== 500 && status !== 501 && this.#retryElsewhere(now, false);
  }

  /**
   * The attempt failed at `now` with `error`, before the response started or, when
   * `responding`, in its middle. Returns `'retry'` when another backend is to be tried, else
   * what went wrong.
   */
  failed(error: unknown, now: number, responding: boolean): FailureKind | 'retry' {
    const kind = classifyFailure(error);
    if (kind === 'aborted') return kind;
    const backend = this.backend!;
    if (kind === 'timeout') {
      if (!responding) this.timedOut(now);
      return kind;
    }
    backend.ewma.observeFailure(now - this.startedAt, now);
    this.#cluster.backends.recordFailure(backend, now);
    if (responding) return kind;
    const connect = kind === 'connect';
    if ((connect || (kind === 'reset' && this.#retryable)) && this.#retryElsewhere(now, connect))
      return 'retry';
    return kind;
  }

  /**
   * No response headers by the deadline. The estimate must know, or a hanging backend looks
   * idle. When the attempt waited the whole first-byte timeout, the backend failed it as
   * surely as with a 504 of its own, and passive health counts it (a backend that hangs on
   * requests while its readiness still answers is ejected like one that fails them); a wait
   * cut shorter by the client's own deadline proves nothing about the backend, so a client
   * sending tiny deadlines cannot eject healthy backends.
   */
  timedOut(now: number): void {
    const backend = this.backend;
    if (backend === undefined) return;
    const waited = now - this.startedAt;
    backend.ewma.observe(waited, now);
    // Timers may fire up to a millisecond before performance.now() says they are due.
    if (waited >= this.#cluster.config.timeouts.firstByte - 1)
      this.#cluster.backends.recordFailure(backend, now);
  }

  /** The current attempt is over (answered, failed or abandoned); idempotent. */
  finish(): void {
    if (!this.#open) return;
    this.#open = false;
    this.backend!.inFlight--;
  }

  /** Records the finished attempt (`status` 0 for a failure) in metrics and windows. */
  record(status: number, now: number): void {
    this.#cluster.observe(this.backend!, status, now - this.startedAt, now);
  }

  /**
   * Whether to try another backend: the request is safe to repeat (or never reached the
   * backend and its body can be sent again), retries are left for it and in the budget, and
   * another backend exists. The backend is chosen here so a retry that has nowhere to go costs
   * no budget.
   */
  #retryElsewhere(now: number, connectFailure: boolean): boolean {
    if (!(this.#retryable || (connectFailure && this.#replayable))) return false;
    const cluster = this.#cluster;
    if (this.attempts > cluster.config.retry.maxRetries) return false;
    this.#excluded ??= new Set();
    const backend = this.backend!;
    this.#excluded.add(backend.id);
    const next = cluster.pick(this.#hashKey, now, this.#excluded);
    if (next === undefined || !cluster.tryRetry(now)) return false;
    this.#next = next;
    backend.stats.retries++;
    cluster.metrics.retried(backend);
    return true;
  }
}
