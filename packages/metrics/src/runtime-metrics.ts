import { collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { EluWindow } from './event-loop-utilization.ts';
import type { ResolvedRuntime } from './options.ts';
import { own } from './registration.ts';

/**
 * prom-client's default metrics, created once per process and prefix. collectDefaultMetrics()
 * starts process-wide work that it never stops (an event loop delay monitor, a GC performance
 * observer): creating them per instance would leak one of each on every hot reload, so every
 * instance exports the same metric objects instead. Created on first use, never at import.
 * (Two instances scraped in turn share the event loop lag window, which resets on each scrape.)
 */
const shared = new Map<string, readonly Metric[]>();

export function defaultMetrics(prefix: string): readonly Metric[] {
  let metrics = shared.get(prefix);
  if (metrics === undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    metrics = Object.freeze(
      registry
        .getMetricsAsArray()
        .filter((m) => !isTotalGauge(m as unknown as { name: string; type: unknown }))
        .map((m) => own(m as unknown as Metric)),
    );
    shared.set(prefix, metrics);
  }
  return metrics;
}

/**
 * prom-client's `nodejs_active_handles_total`, `nodejs_active_requests_total` and
 * `nodejs_active_resources_total` are gauges named like counters, which `promtool check metrics`
 * rejects; each is the `sum()` of the per-type gauge beside it, so they are left out.
 */
function isTotalGauge(metric: { name: string; type: unknown }): boolean {
  return metric.type === 'gauge' && metric.name.endsWith('_total');
}

/** The runtime metrics of one instance: the shared defaults and its own ELU gauge and sampler. */
export class RuntimeMetrics {
  readonly metrics: readonly Metric[];
  readonly #elu: EluWindow | undefined;

  constructor(settings: ResolvedRuntime) {
    const metrics = settings.defaultMetrics ? [...defaultMetrics(settings.prefix)] : [];
    if (settings.eventLoopUtilization !== false) {
      const { window, interval } = settings.eventLoopUtilization;
      const elu = new EluWindow({ window, interval });
      this.#elu = elu;
      metrics.push(
        own(
          new Gauge({
            name: `${settings.prefix}nodejs_eventloop_utilization`,
            help: `Share of time the event loop was busy over the last ${window / 1000} s, 0 to 1.`,
            registers: [],
            collect(this: Gauge<string>) {
              this.set(elu.value());
            },
          }),
        ),
      );
      elu.start();
    }
    this.metrics = Object.freeze(metrics);
  }

  stop(): void {
    this.#elu?.stop();
  }
}
