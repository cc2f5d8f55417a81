/**
 * The value of one sample in Prometheus exposition text: `name` with exactly `labels` (in any
 * order), or `undefined` when absent.
 */
export function metricSample(
  exposition: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const match = /^(?:\{([^}]*)\})? (\S+)$/.exec(rest);
    if (match === null) continue;
    const got = (match[1] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === wanted) return Number(match[2]);
  }
  return undefined;
}
