import { invalidOption } from '@readykit/health/validate';

/*
 * Validators only metrics needs; the kit-wide ones (positiveMs, bool, fn, plainObject,
 * urlPath, knownKeys) come from @readykit/health/validate, so every package words its
 * errors alike. Each throws RK_ERR_INVALID_OPTION naming the option path.
 */

export function positiveInteger(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidOption(path, 'a positive integer', value);
  }
  return value;
}

const METRIC_PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** A metric name prefix: empty, or what may start a Prometheus metric name. */
export function metricPrefix(path: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > 64 || !METRIC_PREFIX.test(value)) {
    throw invalidOption(path, 'a metric name prefix of letters, digits, "_" and ":"', value);
  }
  return value;
}

/** Histogram upper bounds: finite, positive, strictly increasing, at most 64 of them. */
export function buckets(path: string, value: unknown, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.length === 0 || value.length > 64) {
    throw invalidOption(path, 'a non-empty array of at most 64 numbers', value);
  }
  value.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      throw invalidOption(`${path}[${i}]`, 'a finite positive number of seconds', bound);
    }
    if (i > 0 && bound <= (value[i - 1] as number)) {
      throw invalidOption(`${path}[${i}]`, `greater than ${path}[${i - 1}] (${value[i - 1]})`, bound);
    }
  });
  return [...(value as number[])];
}
