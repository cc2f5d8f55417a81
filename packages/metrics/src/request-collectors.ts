import type { Aggregator } from 'prom-client';
import type { ExemplarSnapshot, MetricSnapshot, SampleSnapshot } from './exposition.ts';
import type { ExemplarSlot, RequestSeries } from './request-series.ts';

/*
 * The request counter and duration histogram as prom-client registry members. A prom-client
 * registry only asks a metric for `name`, `help`, `type`, `aggregator`, `get()` (and
 * `getForPromString()` for histograms) and `reset()`, so these read the per-series accumulators
 * directly instead of paying prom-client's per-call label hashing, validation and closures on
 * every request. They answer in prom-client's own shapes, so `registry.metrics()`,
 * `getMetricsAsJSON()` and cluster aggregation keep working. Read-only: there is no `inc()`.
 */

const EMPTY = Object.freeze({});
/** Longest stretch a histogram snapshot is built without yielding, in ms. */
const SLICE_MS = 5;

interface CollectorSettings {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly series: readonly RequestSeries[];
}

abstract class RequestCollector {
  /** Writable: prom-client's OpenMetrics serializer renames counters in place. */
  name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator: Aggregator = 'sum';
  protected readonly series: readonly RequestSeries[];

  constructor(settings: CollectorSettings) {
    this.name = settings.name;
    this.help = settings.help;
    this.labelNames = settings.labelNames;
    this.series = settings.series;
  }

  /** Zeroes every series: the counter and the histogram share them, so both reset. */
  reset(): void {
    for (const s of this.series) s.reset();
  }
}

export class RequestCounter extends RequestCollector {
  readonly type = 'counter';

  async get(): Promise<MetricSnapshot & { aggregator: Aggregator }> {
    const values: SampleSnapshot[] = this.series.map((s) => ({ value: s.count, labels: s.labels }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class RequestHistogram extends RequestCollector {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];
  readonly #le: ReadonlyArray<Readonly<{ le: number | string }>>;

  constructor(settings: CollectorSettings & { readonly buckets: readonly number[] }) {
    super(settings);
    this.upperBounds = settings.buckets;
    this.#le = Object.freeze([...settings.buckets, '+Inf'].map((le) => Object.freeze({ le })));
  }

  /** The compact form readykit's encoder reads: the series themselves, no sample objects. */
  snapshot(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: [],
      points: this.series,
      bounds: this.upperBounds,
    };
  }

  /** Series labels apart from `le`, as prom-client's histogram reports them for its text output. */
  async getForPromString(): Promise<MetricSnapshot & { aggregator: Aggregator }> {
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    const values: SampleSnapshot[] = [];
    const n = this.upperBounds.length;
    const series = this.series;
    let sliceStart = performance.now();
    for (let k = 0; k < series.length; k++) {
      // Thousands of series make tens of thousands of samples: give the event loop a turn
      // whenever a slice has run for a few milliseconds, so a big scrape never stalls requests.
      if ((k & 127) === 127 && performance.now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      const s = series[k]!;
      const shared = s.labels;
      let cumulative = 0;
      for (let i = 0; i <= n; i++) {
        cumulative = i < n ? cumulative + s.buckets[i]! : s.count;
        values.push({
          labels: this.#le[i]!,
          sharedLabels: shared,
          value: cumulative,
          metricName: bucket,
          exemplar: exemplarOf(s.exemplars?.[i]),
        });
      }
      values.push({ labels: EMPTY, sharedLabels: shared, value: s.sum, metricName: sum });
      values.push({ labels: EMPTY, sharedLabels: shared, value: s.count, metricName: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Labels merged, `le` first, as prom-client's histogram `get()` reports them (cluster aggregation reads this). */
  async get(): Promise<MetricSnapshot & { aggregator: Aggregator }> {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...data, values };
  }
}

function exemplarOf(slot: ExemplarSlot | undefined): ExemplarSnapshot | null {
  if (slot === undefined) return null;
  return { labelSet: { ...slot.labelSet }, value: slot.value, timestamp: slot.timestamp };
}
