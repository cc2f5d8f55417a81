/** How often the watch's timer ticks, in ms: a stall longer than this (plus the tolerance) is always seen. */
export const DEFAULT_STALL_TICK_MS = 10;
/** How late the tick may run before the loop counts as stalled, in ms (libuv timers run up to ~1 ms late). */
export const DEFAULT_STALL_TOLERANCE_MS = 3;

/** Options of {@link LoopStallWatch}; tests inject the clock and drive {@link LoopStallWatch.tick} themselves. */
export interface LoopStallWatchOptions {
  /** @default 10 */
  readonly tickMs?: number;
  /** @default 3 */
  readonly toleranceMs?: number;
  /** Monotonic ms. @default performance.now */
  readonly clock?: () => number;
  /** Runs the tick timer; false in tests that call `tick` by hand. @default true */
  readonly timer?: boolean;
}

/**
 * Tells whether this process's own event loop is stalled, so a response read now is not
 * taken for the backend's latency.
 *
 * Why: the balancer measures a response's latency when its headers are read. While the
 * caller's loop is stuck (a garbage-collection pause, a long synchronous task) responses wait
 * unread in their sockets, and every call in flight comes out as slow as the stall. Peak EWMA
 * takes that as a sudden slowdown of every backend that had calls in flight, and with its
 * in-flight multiplier a backend that really is slow, but has not been tried for a while (its
 * estimate decays), wins the next picks. Measured with undici's `fetch` at ~5 000 calls/s on
 * this kind of machine: 30-45 ms young-generation pauses every ~250 ms (fetch keeps each
 * response behind a WeakRef, which scavenges treat as strong, so they copy tens of MB), each
 * followed by a handful of calls to a backend 50 ms late.
 *
 * How: a timer ticks every `tickMs` (unref'd; it runs only while a cluster uses the watch). A
 * stall shows as the tick coming late. While the tick is overdue, responses read are the ones
 * that piled up during the stall; after a late tick the loop is still catching up (measured:
 * piled-up responses read up to ~12 ms after it, and the calls sent in that burst answered as
 * late), so responses read within the stall's length after it are no samples either. A loop
 * that is merely busy keeps iterating and ticks on time. Stalls shorter than `tickMs` are not
 * always caught; they also distort less.
 */
export class LoopStallWatch {
  static #shared: LoopStallWatch | undefined;

  /** The process-wide watch the clusters share: one timer however many balancers run. */
  static shared(): LoopStallWatch {
    LoopStallWatch.#shared ??= new LoopStallWatch();
    return LoopStallWatch.#shared;
  }

  readonly #tickMs: number;
  readonly #toleranceMs: number;
  readonly #clock: () => number;
  readonly #timer: boolean;
  #interval: NodeJS.Timeout | undefined;
  #users = 0;
  #lastTick = 0;
  /** After a late tick, until when the loop counts as catching up. */
  #catchingUpUntil = Number.NEGATIVE_INFINITY;

  constructor(options: LoopStallWatchOptions = {}) {
    this.#tickMs = options.tickMs ?? DEFAULT_STALL_TICK_MS;
    this.#toleranceMs = options.toleranceMs ?? DEFAULT_STALL_TOLERANCE_MS;
    this.#clock = options.clock ?? (() => performance.now());
    this.#timer = options.timer ?? true;
  }

  /** One more user: the timer runs while there is any. Pair with {@link release}. */
  acquire(): void {
    if (this.#users++ > 0) return;
    this.#lastTick = this.#clock();
    if (!this.#timer) return;
    this.#interval = setInterval(() => this.tick(this.#clock()), this.#tickMs);
    this.#interval.unref();
  }

  /** One user fewer: the last one stops the timer. Extra calls are ignored. */
  release(): void {
    if (this.#users === 0) return;
    if (--this.#users > 0) return;
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  /** The timer's body: the loop turned at `now`. */
  tick(now: number): void {
    const late = now - this.#lastTick - this.#tickMs;
    if (late > this.#toleranceMs) this.#catchingUpUntil = now + Math.max(late, this.#tickMs);
    this.#lastTick = now;
  }

  /**
   * Whether a response read at `now` (ms, the same clock) may have waited out a stall: the tick
   * is more than the tolerance overdue, or it came that late and the loop is still catching up.
   * Always false while nobody uses the watch.
   */
  stalled(now: number): boolean {
    return (
      this.#users > 0 &&
      (now < this.#catchingUpUntil || now - this.#lastTick - this.#tickMs > this.#toleranceMs)
    );
  }
}
