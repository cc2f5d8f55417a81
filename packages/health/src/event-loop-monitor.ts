import { performance } from 'node:perf_hooks';

export interface EventLoopMonitorSettings {
  /** A stall longer than this, in ms, counts as blocked. */
  readonly threshold: number;
  /** How long, in ms, a stall keeps liveness failing after the loop recovered. */
  readonly window: number;
  /** How often the monitor samples, in ms. */
  readonly sampleInterval: number;
}

/**
 * Detects a blocked event loop by how late a repeating timer fires. After a stall the
 * timers phase runs before the poll phase, so the monitor records the stall before the
 * probe request that queued behind it is read: that probe already reports it.
 */
export class EventLoopMonitor {
  readonly settings: EventLoopMonitorSettings;
  #timer: NodeJS.Timeout | undefined;
  #expected = 0;
  #lastStallAt = 0;
  #lastStallMs = 0;

  constructor(settings: EventLoopMonitorSettings) {
    this.settings = settings;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#expected = performance.now() + this.settings.sampleInterval;
    this.#timer = setInterval(() => this.#sample(), this.settings.sampleInterval);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The longest recent stall in ms if it is within the window, else 0. */
  recentStallMs(now: number = performance.now()): number {
    return this.#lastStallAt > 0 && now - this.#lastStallAt <= this.settings.window ? this.#lastStallMs : 0;
  }

  /** The liveness verdict: the recent stall past the threshold in ms, or 0 when there was none. */
  blockedMs(): number {
    this.#sample();
    return this.recentStallMs();
  }

  #sample(): void {
    const now = performance.now();
    const lag = now - this.#expected;
    if (lag >= this.settings.threshold) {
      // Keep the larger of overlapping stalls so a short one does not hide a long one.
      if (this.recentStallMs(now) < lag) this.#lastStallMs = lag;
      this.#lastStallAt = now;
    }
    if (lag >= 0) this.#expected = now + this.settings.sampleInterval;
  }
}
