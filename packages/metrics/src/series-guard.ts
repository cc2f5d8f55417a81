import { METHOD_LABELS, OVERFLOW_ROUTE } from './http-names.ts';

/** One label set of the HTTP metrics, created once and reused for every observation. */
export type SeriesLabels = Readonly<Record<string, string>>;

export interface SeriesLabelNames {
  readonly method: string;
  readonly route: string;
  readonly status: string;
}

type ByStatus<S> = Map<number, S>;

/**
 * The cardinality guard of the HTTP metrics: hands out one series object per
 * (route, method, status), created by `create` with a frozen label object, and caps how many
 * exist. Once `maxSeries` exist, a new one is not created: the request goes to
 * `route="overflow"` with its method and status kept (at most one overflow series per method
 * and status code) and `dropped` counts it. A route first seen past the cap is not even
 * stored, so an unbounded route label (raw paths with ids) costs no memory past the cap.
 *
 * The lookup is two Map gets and an array index: no string is built per request.
 */
export class SeriesGuard<S> {
  /** Every series, overflow ones included, in creation order. */
  readonly all: S[] = [];
  readonly #names: SeriesLabelNames;
  readonly #max: number;
  readonly #create: (labels: SeriesLabels) => S;
  readonly #routes = new Map<string, Array<ByStatus<S> | undefined>>();
  readonly #overflow: Array<ByStatus<S> | undefined> = [];
  #size = 0;
  #dropped = 0;

  constructor(names: SeriesLabelNames, maxSeries: number, create: (labels: SeriesLabels) => S) {
    this.#names = names;
    this.#max = maxSeries;
    this.#create = create;
  }

  /** Series created for real routes, the number the cap applies to. */
  get size(): number {
    return this.#size;
  }

  /** Requests sent to an overflow series so far. */
  get dropped(): number {
    return this.#dropped;
  }

  series(route: string, method: number, status: number): S {
    let byMethod = this.#routes.get(route);
    if (byMethod === undefined) {
      if (this.#size >= this.#max) return this.#overflowSeries(method, status);
      byMethod = [];
      this.#routes.set(route, byMethod);
    }
    let byStatus = byMethod[method];
    const found = byStatus?.get(status);
    if (found !== undefined) return found;
    if (this.#size >= this.#max) return this.#overflowSeries(method, status);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod[method] = byStatus;
    }
    const created = this.#add(route, method, status);
    byStatus.set(status, created);
    this.#size++;
    return created;
  }

  #overflowSeries(method: number, status: number): S {
    this.#dropped++;
    let byStatus = this.#overflow[method];
    if (byStatus === undefined) {
      byStatus = new Map();
      this.#overflow[method] = byStatus;
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = this.#add(OVERFLOW_ROUTE, method, status);
      byStatus.set(status, series);
    }
    return series;
  }

  #add(route: string, method: number, status: number): S {
    const { method: m, route: r, status: s } = this.#names;
    const series = this.#create(
      Object.freeze({ [m]: METHOD_LABELS[method]!, [r]: route, [s]: String(status) }),
    );
    this.all.push(series);
    return series;
  }
}
