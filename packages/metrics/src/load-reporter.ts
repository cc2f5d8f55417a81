import { type EluSample, EluWindow } from './event-loop-utilization.ts';
import { inFlightPrefix } from './load-report.ts';

export interface LoadReporterSettings {
  /** Trailing window the utilization covers, in ms. */
  readonly window: number;
  /** How often the utilization is sampled and the cached header refreshed, in ms. */
  readonly interval: number;
  /** @default performance.eventLoopUtilization */
  readonly sample?: () => EluSample;
}

/**
 * Produces the `endpoint-load-metrics` header value: event loop utilization over a trailing
 * window as `application_utilization`, and the in-flight count the caller passes. The
 * utilization part of the header is rebuilt only on the sampling timer (unref'd, so it never
 * keeps the process alive), and only when the rounded value changed; a response then costs
 * one string concatenation. The timer runs first in the loop turn that follows a blocking
 * stretch, so responses read in that turn already report it.
 */
export class LoadReporter {
  readonly #elu: EluWindow;
  readonly #interval: number;
  #utilization = 0;
  #prefix = inFlightPrefix(0);
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(settings: LoadReporterSettings) {
    this.#elu = new EluWindow(settings);
    this.#interval = settings.interval;
    this.#elu.tick();
  }

  /** Starts the sampling timer. Idempotent; does nothing once closed. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.refresh(), this.#interval);
    this.#timer.unref();
  }

  /** Takes one sample and refreshes the cached utilization; the timer calls this, tests call it directly. */
  refresh(): void {
    this.#elu.tick();
    const utilization = Math.round(this.#elu.value() * 1000) / 1000;
    if (utilization === this.#utilization) return;
    this.#utilization = utilization;
    this.#prefix = inFlightPrefix(utilization);
  }

  /** The utilization the header reports now, in [0, 1], 3 decimals. */
  get utilization(): number {
    return this.#utilization;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The header value with `inFlight` requests in flight (a non-negative integer). */
  headerValue(inFlight: number): string {
    return this.#prefix + inFlight;
  }

  /** Stops the sampling timer; the last value stays readable. Idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
