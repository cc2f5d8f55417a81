import type { EventLoopUtilization } from 'node:perf_hooks';

/** Cumulative idle and active event loop time, in ms, as `performance.eventLoopUtilization()` reports it. */
export interface EluSample {
  readonly idle: number;
  readonly active: number;
}

/**
 * The share of time the event loop was busy between two cumulative samples, in [0, 1]:
 * active time over elapsed loop time, as Node's own `eventLoopUtilization(a, b)` computes it.
 * 0 when no loop time passed between them.
 */
export function utilizationBetween(older: EluSample, newer: EluSample): number {
  const active = newer.active - older.active;
  const elapsed = active + (newer.idle - older.idle);
  if (!(elapsed > 0)) return 0;
  return Math.min(1, Math.max(0, active / elapsed));
}

export interface EluWindowSettings {
  /** Trailing window the value covers, in ms. */
  readonly window: number;
  /** Sampling period, in ms. */
  readonly interval: number;
  /** @default performance.eventLoopUtilization */
  readonly sample?: () => EluSample;
}

/**
 * Event loop utilization over a sliding window: a ring of cumulative samples taken every
 * `interval` ms on an unref'd timer; `value()` compares a fresh sample with the oldest one kept,
 * so it covers the last `window` ms to within one interval (less right after `start()`).
 */
export class EluWindow {
  readonly #sample: () => EluSample;
  readonly #interval: number;
  readonly #ring: EluSample[];
  #next = 0;
  #filled = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: EluWindowSettings) {
    this.#sample = settings.sample ?? (() => performance.eventLoopUtilization() as EventLoopUtilization);
    this.#interval = settings.interval;
    this.#ring = new Array<EluSample>(Math.max(1, Math.ceil(settings.window / settings.interval)));
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.tick();
    this.#timer = setInterval(() => this.tick(), this.#interval);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample; the timer calls this, tests call it with a fake sampler. */
  tick(): void {
    this.#ring[this.#next] = this.#sample();
    this.#next = (this.#next + 1) % this.#ring.length;
    if (this.#filled < this.#ring.length) this.#filled++;
  }

  /** Utilization over the window, in [0, 1]; 0 before the first sample. */
  value(): number {
    if (this.#filled === 0) return 0;
    const oldest = this.#filled < this.#ring.length ? 0 : this.#next;
    return utilizationBetween(this.#ring[oldest]!, this.#sample());
  }
}
