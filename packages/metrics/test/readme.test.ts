import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as api from '../src/index.ts';
import { CLASSIC_NAMES, createMetrics, ErrorCodes, SEMCONV_NAMES } from '../src/index.ts';
import { testHealth } from './support.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const optionsSource = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');
const INTERFACES = ['MetricsOptions', 'RuntimeOptions', 'EventLoopUtilizationOptions', 'LoadReportOptions'];

/** The field names of an exported interface in options.ts. */
function fields(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(optionsSource)?.[1];
  assert.ok(body, `interface ${name} not found`);
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

test('every option is documented in the README with its default', () => {
  for (const iface of INTERFACES) {
    const names = fields(iface);
    assert.ok(names.length > 0, iface);
    for (const field of names) {
      assert.ok(readme.includes(`\`${field}\``), `${iface}.${field} is not in the README`);
      const row = new RegExp(`\\| \`${field}\` \\| [^|]+ \\|`);
      assert.ok(row.test(readme), `${iface}.${field} has no default in a table row`);
    }
  }
});

test('every option carries a TSDoc comment with @default in the source', () => {
  for (const iface of INTERFACES) {
    const body = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(optionsSource)?.[1] ?? '';
    for (const field of fields(iface)) {
      assert.match(
        body,
        new RegExp(`@default[^\\n]*\\*/\\n {2}${field}\\??:`),
        `${iface}.${field} has no @default`,
      );
    }
  }
});

test('every error code is documented', () => {
  for (const code of Object.values(ErrorCodes))
    assert.ok(readme.includes(`\`${code}\``), `${code} is not in the README`);
});

test('every metric readykit exports is documented with a PromQL example', async (t) => {
  const health = testHealth();
  const metrics = createMetrics({ health });
  t.after(async () => {
    await metrics.close();
    await health.close();
  });
  const names = metrics.registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((name) => /^(http_|readykit_)|utilization/.test(name));
  assert.equal(names.length, 10);
  for (const name of names) {
    const row = new RegExp(`^\\| \`${name}\` \\| (counter|gauge|histogram) \\|`, 'm');
    const promql = new RegExp(`^\\| \`${name}\` \\| .*\`[^\`]*${name}[^\`]*\``, 'm');
    assert.ok(row.test(readme), `${name}: no row`);
    assert.ok(promql.test(readme), `${name}: no PromQL`);
  }
  for (const key of ['requests', 'duration', 'inFlight'] as const) {
    assert.ok(readme.includes(`\`${SEMCONV_NAMES[key]}\``), SEMCONV_NAMES[key]);
    assert.ok(readme.includes(`\`${CLASSIC_NAMES[key]}\``), CLASSIC_NAMES[key]);
  }
});

test('the README has one runnable example listening on 8080, with probes and a metrics route', () => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((c) => c.includes('8080'));
  assert.equal(blocks.length, 1);
  const [example] = blocks;
  assert.match(example!, /createHealth/);
  assert.match(example!, /health\.attach\(server, \{ probes: true \}\)/);
  assert.match(example!, /metrics\.handle\(req, res\)/);
  assert.match(example!, /metrics\.track\(req, res\)/);
});

test('the public exports', () => {
  assert.deepEqual(Object.keys(api).sort(), [
    'ABORTED_STATUS',
    'CHECK_DURATION_BUCKETS',
    'CLASSIC_NAMES',
    'CLUSTER_EXPECTED_METRIC',
    'CLUSTER_RESPONDING_METRIC',
    'CLUSTER_SCRAPE_REQUEST',
    'CLUSTER_SCRAPE_RESPONSE',
    'CONTENT_TYPES',
    'DEFAULT_BUCKETS',
    'DEFAULT_CLOSE_GRACE',
    'DEFAULT_CLUSTER_AGGREGATORS',
    'DEFAULT_CLUSTER_TIMEOUT',
    'DEFAULT_ELU_INTERVAL',
    'DEFAULT_ELU_WINDOW',
    'DEFAULT_LOAD_REPORT_INTERVAL',
    'DEFAULT_LOAD_REPORT_WINDOW',
    'DEFAULT_MANAGEMENT_HOST',
    'DEFAULT_MAX_SERIES',
    'DEFAULT_METRICS_PATH',
    'DEFAULT_PROFILE_MAX_SECONDS',
    'DEFAULT_PROFILE_SECONDS',
    'DEFAULT_PROFILING_PATH',
    'ErrorCodes',
    'HTTP_METHODS',
    'LOAD_REPORT_HEADER',
    'LoadReporter',
    'ManagementServer',
    'Metrics',
    'OTHER_METHOD',
    'OVERFLOW_ROUTE',
    'ReadykitError',
    'SEMCONV_NAMES',
    'UNMATCHED_ROUTE',
    'createClusterAggregator',
    'createMetrics',
    'createProfiling',
    'encode',
    'formatLoadReport',
    'negotiateFormat',
    'parseLoadReport',
    'scrapeRegistry',
    'scrapeRegistryBuffer',
    'serveClusterScrapes',
    'utilizationBetween',
  ]);
  assert.equal(api.ABORTED_STATUS, 499);
  assert.equal(api.OTHER_METHOD, '_OTHER');
  assert.equal(api.UNMATCHED_ROUTE, 'unmatched');
  assert.equal(api.OVERFLOW_ROUTE, 'overflow');
});
