import type { Registry } from 'prom-client';
import {
  type ExpositionFormat,
  encodeHeader,
  encodePoints,
  encodeSamples,
  type MetricSnapshot,
  type SampleSnapshot,
} from './exposition.ts';

export interface ScrapeOptions {
  /**
   * Longest stretch the scrape runs without giving the event loop a turn, in ms: a scrape of
   * many thousand series is encoded in slices, so requests keep flowing while it runs. @default 10
   */
  readonly sliceMs?: number;
}

/** Samples (or histogram series) encoded between two clock reads. */
const CHUNK = 256;
const POINT_CHUNK = 32;

type Collectable = {
  get(): Promise<MetricSnapshot>;
  getForPromString?(): Promise<MetricSnapshot>;
  /** readykit's request histogram: the compact form. */
  snapshot?(): MetricSnapshot;
};

/**
 * Encodes every metric of a prom-client registry in `format`. Metrics are collected one at a
 * time and their samples encoded in chunks, each turned into bytes at once: no multi-megabyte
 * string is ever built or flattened in one go. Whenever a slice has run `sliceMs`, the scrape
 * yields with setImmediate so pending I/O is served. A collector that throws rejects the scrape.
 */
export async function scrapeRegistryBuffer(
  registry: Registry,
  format: ExpositionFormat,
  options: ScrapeOptions = {},
): Promise<Buffer> {
  const sliceMs = options.sliceMs ?? 10;
  const defaultLabels = defaultLabelsOf(registry);
  const parts: Buffer[] = [];
  let size = 0;
  const push = (text: string): void => {
    const bytes = Buffer.from(text, 'utf8');
    parts.push(bytes);
    size += bytes.length;
  };
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<void> => {
    if (performance.now() - sliceStart < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  for (const metric of registry.getMetricsAsArray() as unknown as Collectable[]) {
    const snapshot =
      typeof metric.snapshot === 'function'
        ? metric.snapshot()
        : typeof metric.getForPromString === 'function'
          ? await metric.getForPromString()
          : await metric.get();
    let text = encodeHeader(snapshot, format);
    const values: readonly SampleSnapshot[] = snapshot.values ?? [];
    for (let from = 0; from < values.length; from += CHUNK) {
      text += encodeSamples(snapshot, format, defaultLabels, from, Math.min(from + CHUNK, values.length));
      if (values.length > CHUNK) {
        push(text);
        text = '';
        await maybeYield();
      }
    }
    const points = snapshot.points?.length ?? 0;
    for (let from = 0; from < points; from += POINT_CHUNK) {
      push(text + encodePoints(snapshot, format, defaultLabels, from, Math.min(from + POINT_CHUNK, points)));
      text = '';
      await maybeYield();
    }
    if (text !== '') push(text);
  }
  if (format === 'openmetrics') push('# EOF\n');
  return Buffer.concat(parts, size);
}

/** {@link scrapeRegistryBuffer} as a string. */
export async function scrapeRegistry(
  registry: Registry,
  format: ExpositionFormat,
  options?: ScrapeOptions,
): Promise<string> {
  return (await scrapeRegistryBuffer(registry, format, options)).toString('utf8');
}

/**
 * The labels set with `registry.setDefaultLabels()`. prom-client 15 keeps them in a field
 * with no getter; read defensively so a registry without it simply has none.
 */
function defaultLabelsOf(registry: Registry): Record<string, string> | undefined {
  const labels = (registry as unknown as { _defaultLabels?: unknown })._defaultLabels;
  if (labels === null || typeof labels !== 'object') return undefined;
  return Object.keys(labels).length > 0 ? (labels as Record<string, string>) : undefined;
}
