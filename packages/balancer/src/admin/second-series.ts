/** One second of traffic: requests in that second, and their p99 in ms (null without requests). */
export type SecondPoint = readonly [rps: number, p99Ms: number | null];

/**
 * The last `capacity` seconds of one backend's (or the whole balancer's) traffic, one point per
 * second, oldest overwritten first: the data behind the dashboard's sparklines. Fixed typed
 * arrays, so a long-running balancer holds the same memory on its first minute and its last.
 */
export class SecondSeries {
  readonly capacity: number;
  readonly #rps: Float64Array;
  readonly #p99: Float64Array;
  #next = 0;
  #length = 0;
  #end = -1;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#rps = new Float64Array(capacity);
    this.#p99 = new Float64Array(capacity);
  }

  /** The second of the newest point; -1 while empty. */
  get end(): number {
    return this.#end;
  }

  get length(): number {
    return this.#length;
  }

  /** Appends the point of `second` (the next one after {@link end}); `p99Ms` NaN when there were no requests. */
  push(second: number, rps: number, p99Ms: number): void {
    this.#rps[this.#next] = rps;
    this.#p99[this.#next] = p99Ms;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#length < this.capacity) this.#length++;
    this.#end = second;
  }

  /** The newest `count` points (all by default), oldest first, rounded for the wire. */
  points(count = this.#length): SecondPoint[] {
    const n = Math.min(count, this.#length);
    const points: SecondPoint[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const at = (this.#next - n + i + this.capacity) % this.capacity;
      const p99 = this.#p99[at]!;
      points[i] = [this.#rps[at]!, Number.isNaN(p99) ? null : roundMs(p99)];
    }
    return points;
  }
}

/** Three significant digits are plenty for a sparkline and keep the JSON short. */
export function roundMs(ms: number): number {
  if (ms >= 100) return Math.round(ms);
  if (ms >= 10) return Math.round(ms * 10) / 10;
  return Math.round(ms * 1000) / 1000;
}
