/**
 * Pure encoders of the two exposition formats, apart from any transport: Prometheus text 0.0.4
 * and OpenMetrics 1.0 text. They read metrics as prom-client describes them (`get()`, or
 * `getForPromString()` for histograms; readykit's request histogram in a compact form) and never
 * touch the metric objects, so one registry can answer both formats. (prom-client's own
 * `Registry.metrics()` serves one fixed format per registry and, in OpenMetrics mode, renames
 * counter objects in place.)
 */

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = Object.freeze({
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
});

type LabelValue = string | number;
type Labels = Readonly<Record<string, LabelValue | undefined>>;

export interface ExemplarSnapshot {
  readonly labelSet: Labels;
  readonly value: number | null;
  readonly timestamp?: number;
}

/** One sample as prom-client reports it. */
export interface SampleSnapshot {
  readonly value: number;
  readonly labels?: Labels;
  /** The series' labels, kept apart from `le` by histograms. */
  readonly sharedLabels?: Labels;
  /** `_bucket`, `_sum`, `_count` samples name themselves. */
  readonly metricName?: string;
  readonly exemplar?: ExemplarSnapshot | null;
}

/**
 * One histogram series in compact form: readykit's request histogram hands these to the encoder
 * instead of (buckets + 3) sample objects per series, which matters at thousands of series.
 */
export interface HistogramPoint {
  readonly labels: Labels;
  /** Per-bucket counts, not cumulative, one per bound; the +Inf bucket is `count`. */
  readonly buckets: ArrayLike<number>;
  readonly count: number;
  readonly sum: number;
  /** Latest exemplar per bucket, +Inf last. */
  readonly exemplars?: ReadonlyArray<ExemplarSnapshot | undefined> | undefined;
}

export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: readonly SampleSnapshot[];
  /** Histogram series in compact form, encoded after `values`; `bounds` gives their buckets. */
  readonly points?: readonly HistogramPoint[];
  readonly bounds?: readonly number[];
}

/**
 * Picks the format an `Accept` header prefers: OpenMetrics when `application/openmetrics-text`
 * (version 1.0.0, 0.0.1 or none) is accepted with a quality at least that of `text/plain`,
 * `text/*` or `*\/*`, as in Prometheus' own scrape header; Prometheus text otherwise.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || !/openmetrics/i.test(accept)) return 'prometheus';
  let openmetrics = -1;
  let text = -1;
  for (const range of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = range.split(';').map((s) => s.trim());
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const eq = param.indexOf('=');
      const key = param.slice(0, eq).trim();
      const value = param.slice(eq + 1).trim();
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    if (!(q > 0)) continue;
    if (type === 'application/openmetrics-text') {
      if (version === undefined || version === '1.0.0' || version === '0.0.1')
        openmetrics = Math.max(openmetrics, q);
    } else if (type === 'text/plain' || type === 'text/*' || type === '*/*') {
      text = Math.max(text, q);
    }
  }
  return openmetrics > 0 && openmetrics >= text ? 'openmetrics' : 'prometheus';
}

/** `# HELP` and `# TYPE` of one metric family. */
export function encodeHeader(metric: MetricSnapshot, format: ExpositionFormat): string {
  const family = familyName(metric, format);
  return `# HELP ${family} ${escapeHelp(metric.help, format)}\n# TYPE ${family} ${metric.type}\n`;
}

/** Samples `from` (inclusive) to `to` (exclusive) of one metric, one line each. */
export function encodeSamples(
  metric: MetricSnapshot,
  format: ExpositionFormat,
  defaultLabels: Labels | undefined,
  from = 0,
  to = metric.values.length,
): string {
  const om = format === 'openmetrics';
  const counter = metric.type === 'counter';
  const defaultName = om && counter ? `${familyName(metric, format)}_total` : metric.name;
  let out = '';
  for (let i = from; i < to; i++) {
    const sample = metric.values[i]!;
    const name = sample.metricName ?? defaultName;
    out += `${name}${labelBlock(sample, om, defaultLabels)} ${formatNumber(sample.value)}`;
    const exemplar = sample.exemplar;
    if (om && exemplar != null && (counter || name.endsWith('_bucket'))) out += exemplarText(exemplar);
    out += '\n';
  }
  return out;
}

/** Histogram points `from` (inclusive) to `to` (exclusive): the buckets, sum and count of each. */
export function encodePoints(
  metric: MetricSnapshot,
  format: ExpositionFormat,
  defaultLabels: Labels | undefined,
  from = 0,
  to = metric.points?.length ?? 0,
): string {
  const points = metric.points ?? [];
  const bounds = metric.bounds ?? [];
  const om = format === 'openmetrics';
  const le = [...bounds.map((b) => (om ? canonicalNumber(b) : formatNumber(b))), '+Inf'];
  const bucket = `${metric.name}_bucket`;
  const sum = `${metric.name}_sum`;
  const count = `${metric.name}_count`;
  let out = '';
  for (let p = from; p < to; p++) {
    const point = points[p]!;
    const series = cachedLabels(point.labels, om);
    const defaults = defaultLabels === undefined ? '' : defaultsFor(defaultLabels, point.labels);
    const open = series === '' ? '{' : `{${series},`;
    const close = defaults === '' ? '}' : `,${defaults}}`;
    const plain = join(series, defaults);
    const block = plain === '' ? '' : `{${plain}}`;
    let cumulative = 0;
    for (let i = 0; i <= bounds.length; i++) {
      cumulative = i < bounds.length ? cumulative + point.buckets[i]! : point.count;
      out += `${bucket}${open}le="${le[i]}"${close} ${cumulative}`;
      const exemplar = om ? point.exemplars?.[i] : undefined;
      if (exemplar !== undefined) out += exemplarText(exemplar);
      out += '\n';
    }
    out += `${sum}${block} ${formatNumber(point.sum)}\n${count}${block} ${point.count}\n`;
  }
  return out;
}

/** A whole exposition in one synchronous pass (the scraper yields between chunks instead). */
export function encode(
  metrics: readonly MetricSnapshot[],
  format: ExpositionFormat,
  defaultLabels?: Labels,
): string {
  let out = '';
  for (const metric of metrics) {
    out += encodeHeader(metric, format) + encodeSamples(metric, format, defaultLabels);
    if (metric.points !== undefined) out += encodePoints(metric, format, defaultLabels);
  }
  return format === 'openmetrics' ? `${out}# EOF\n` : out;
}

/** OpenMetrics names a counter family without `_total`; its samples carry the suffix. */
function familyName(metric: MetricSnapshot, format: ExpositionFormat): string {
  return format === 'openmetrics' && metric.type === 'counter' && metric.name.endsWith('_total')
    ? metric.name.slice(0, -'_total'.length)
    : metric.name;
}

function exemplarText(exemplar: ExemplarSnapshot): string {
  if (exemplar.value == null) return '';
  const set = formatLabels(exemplar.labelSet, false);
  if (set === '') return '';
  const time = exemplar.timestamp === undefined ? '' : ` ${exemplar.timestamp}`;
  return ` # {${set}} ${formatNumber(exemplar.value)}${time}`;
}

// Formatted labels of the label objects metrics keep per series (the HTTP metrics reuse one
// frozen object per series for every observation; histograms repeat it on every bucket line),
// so a scrape formats each series' labels once, not once per sample. Keyed per format because
// `le` and `quantile` numbers are written differently.
const caches = { prometheus: new WeakMap<object, string>(), openmetrics: new WeakMap<object, string>() };

function cachedLabels(labels: Labels, om: boolean): string {
  const cache = om ? caches.openmetrics : caches.prometheus;
  let text = cache.get(labels);
  if (text === undefined) {
    text = formatLabels(labels, om);
    cache.set(labels, text);
  }
  return text;
}

function labelBlock(sample: SampleSnapshot, om: boolean, defaultLabels: Labels | undefined): string {
  const shared = sample.sharedLabels;
  const own = sample.labels;
  let parts: string;
  if (shared !== undefined) {
    parts = cachedLabels(shared, om);
    // Histogram samples: `le`. Cached when frozen (readykit's); prom-client's are fresh per scrape.
    if (own !== undefined)
      parts = join(parts, Object.isFrozen(own) ? cachedLabels(own, om) : formatLabels(own, om, shared));
  } else {
    parts = own === undefined ? '' : cachedLabels(own, om);
  }
  if (defaultLabels !== undefined) {
    for (const key in defaultLabels) {
      if (shared?.[key] !== undefined || own?.[key] !== undefined) continue;
      parts = join(parts, formatLabel(key, defaultLabels[key]!, false));
    }
  }
  return parts === '' ? '' : `{${parts}}`;
}

function defaultsFor(defaultLabels: Labels, labels: Labels): string {
  let out = '';
  for (const key in defaultLabels) {
    if (labels[key] !== undefined) continue;
    out = join(out, formatLabel(key, defaultLabels[key]!, false));
  }
  return out;
}

function join(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a},${b}`;
}

function formatLabels(labels: Labels, om: boolean, skip?: Labels): string {
  let out = '';
  for (const key in labels) {
    const value = labels[key];
    if (value === undefined || skip?.[key] !== undefined) continue;
    out = join(out, formatLabel(key, value, om));
  }
  return out;
}

function formatLabel(key: string, value: LabelValue, om: boolean): string {
  if (typeof value === 'number') {
    // OpenMetrics wants canonical numbers in le and quantile: 1.0, not 1.
    const text = om && (key === 'le' || key === 'quantile') ? canonicalNumber(value) : formatNumber(value);
    return `${key}="${text}"`;
  }
  return `${key}="${escapeLabelValue(value)}"`;
}

const NEEDS_ESCAPE = /[\\"\n]/;

export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string, format: ExpositionFormat): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function canonicalNumber(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : formatNumber(value);
}
