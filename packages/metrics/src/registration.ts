import type { Metric, Registry } from 'prom-client';
import { ErrorCodes, ReadykitError } from './errors.ts';

/** Every prom-client metric object readykit created, in any instance. */
const OWNED = new WeakSet<object>();

/** Marks a metric as readykit's: a later instance may replace it in a shared registry. */
export function own<M extends object>(metric: M): M {
  OWNED.add(metric);
  return metric;
}

/**
 * What to do when the name is taken by a metric readykit did not create: `throw` for the HTTP
 * and lifecycle metrics (two different meanings under one name would be silently wrong), `skip`
 * for runtime metrics (the application already collects prom-client's defaults itself).
 */
export type OnForeign = 'throw' | 'skip';

/**
 * Adds `metric` to `registry` without prom-client's "already registered" error. A metric of
 * the same name that an earlier readykit instance created is replaced, so constructing twice
 * (hot reload, tests) just works and the newest instance is the one exported. Returns whether
 * the metric is now registered.
 */
export function register(registry: Registry, metric: Metric, onForeign: OnForeign): boolean {
  const { name } = metric as unknown as { name: string };
  const existing = registry.getSingleMetric(name);
  if (existing === metric) return true;
  if (existing !== undefined) {
    if (!OWNED.has(existing)) {
      if (onForeign === 'skip') return false;
      throw new ReadykitError(
        ErrorCodes.DUPLICATE_NAME,
        `the registry already has a metric named "${name}" that readykit did not create`,
      );
    }
    registry.removeSingleMetric(name);
  }
  registry.registerMetric(metric);
  return true;
}

/** Registers every metric, or none: a conflict with a foreign metric is found before any change. */
export function registerAll(registry: Registry, metrics: readonly Metric[]): void {
  for (const metric of metrics) {
    const existing = registry.getSingleMetric((metric as unknown as { name: string }).name);
    if (existing !== undefined && existing !== metric && !OWNED.has(existing))
      register(registry, metric, 'throw');
  }
  for (const metric of metrics) register(registry, metric, 'throw');
}
