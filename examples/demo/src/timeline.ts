/** A stretch of the run with one name: "baseline", "rolling restart", "after restart", … */
export interface Segment {
  readonly name: string;
  readonly startMs: number;
  /** Undefined while it runs. */
  endMs: number | undefined;
}

/** A scenario phase, measured against the stretches before, during and after it. */
export interface Phase {
  readonly name: string;
  readonly before: string;
  readonly during: string;
  readonly after: string;
}

/** The run cut into consecutive named segments, on the load's clock. */
export class Timeline {
  readonly segments: Segment[] = [];
  readonly phases: Phase[] = [];
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Ends the current segment and starts `name`. */
  begin(name: string): void {
    const now = this.#now();
    const current = this.segments.at(-1);
    if (current !== undefined) current.endMs = now;
    this.segments.push({ name, startMs: now, endMs: undefined });
  }

  /** Ends the last segment. */
  end(): void {
    const current = this.segments.at(-1);
    if (current !== undefined && current.endMs === undefined) current.endMs = this.#now();
  }

  /** The current segment's name. */
  get current(): string | undefined {
    return this.segments.at(-1)?.name;
  }

  segment(name: string): Segment | undefined {
    return this.segments.find((s) => s.name === name);
  }
}
