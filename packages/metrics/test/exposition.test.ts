import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode, type MetricSnapshot, negotiateFormat } from '../src/index.ts';

test('negotiateFormat: OpenMetrics only when Accept prefers it', () => {
  const prometheus2 =
    'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const prometheus3 =
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=1.0.0;q=0.2,*/*;q=0.05';
  const cases: Array<[string | undefined, 'prometheus' | 'openmetrics']> = [
    [undefined, 'prometheus'],
    ['', 'prometheus'],
    ['*/*', 'prometheus'],
    ['text/plain', 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['Application/OpenMetrics-Text;Version=1.0.0', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    ['application/openmetrics-text;version=2.0.0', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
    ['application/openmetrics-text;q=0.3,text/plain', 'prometheus'],
    ['text/plain;q=0.3,application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text, text/plain', 'openmetrics'],
    [prometheus2, 'openmetrics'],
    [prometheus3, 'openmetrics'],
  ];
  for (const [accept, expected] of cases) assert.equal(negotiateFormat(accept), expected, String(accept));
});

const counter: MetricSnapshot = {
  name: 'jobs_total',
  help: 'Jobs done.\nSecond "line" \\ here.',
  type: 'counter',
  values: [
    { value: 3, labels: { queue: 'a"b\\c\nd' } },
    {
      value: 1,
      labels: { queue: 'x' },
      exemplar: { labelSet: { trace_id: 'abc' }, value: 1, timestamp: 1700000000.5 },
    },
  ],
};
const histogram: MetricSnapshot = {
  name: 'latency_seconds',
  help: 'Latency.',
  type: 'histogram',
  values: [
    {
      value: 1,
      labels: { le: 0.5 },
      sharedLabels: { route: '/' },
      metricName: 'latency_seconds_bucket',
      exemplar: { labelSet: { trace_id: 'f00d' }, value: 0.25, timestamp: 1700000000 },
    },
    { value: 2, labels: { le: 1 }, sharedLabels: { route: '/' }, metricName: 'latency_seconds_bucket' },
    { value: 2, labels: { le: '+Inf' }, sharedLabels: { route: '/' }, metricName: 'latency_seconds_bucket' },
    { value: 1.25, labels: {}, sharedLabels: { route: '/' }, metricName: 'latency_seconds_sum' },
    { value: 2, labels: {}, sharedLabels: { route: '/' }, metricName: 'latency_seconds_count' },
  ],
};
const gauge: MetricSnapshot = {
  name: 'temperature',
  help: 'Odd values.',
  type: 'gauge',
  values: [
    { value: Number.NaN, labels: { k: 'nan' } },
    { value: Number.POSITIVE_INFINITY, labels: { k: 'inf' } },
    { value: Number.NEGATIVE_INFINITY, labels: { k: 'ninf' } },
    { value: 1e-7, labels: {} },
  ],
};

test('Prometheus text 0.0.4: escaping, special values, no exemplars', () => {
  assert.equal(
    encode([counter, histogram, gauge], 'prometheus'),
    [
      '# HELP jobs_total Jobs done.\\nSecond "line" \\\\ here.',
      '# TYPE jobs_total counter',
      'jobs_total{queue="a\\"b\\\\c\\nd"} 3',
      'jobs_total{queue="x"} 1',
      '# HELP latency_seconds Latency.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{route="/",le="0.5"} 1',
      'latency_seconds_bucket{route="/",le="1"} 2',
      'latency_seconds_bucket{route="/",le="+Inf"} 2',
      'latency_seconds_sum{route="/"} 1.25',
      'latency_seconds_count{route="/"} 2',
      '# HELP temperature Odd values.',
      '# TYPE temperature gauge',
      'temperature{k="nan"} NaN',
      'temperature{k="inf"} +Inf',
      'temperature{k="ninf"} -Inf',
      'temperature 1e-7',
      '',
    ].join('\n'),
  );
});

test('OpenMetrics 1.0: counter families without _total, canonical le, exemplars, # EOF', () => {
  assert.equal(
    encode([counter, histogram], 'openmetrics'),
    [
      '# HELP jobs Jobs done.\\nSecond \\"line\\" \\\\ here.',
      '# TYPE jobs counter',
      'jobs_total{queue="a\\"b\\\\c\\nd"} 3',
      'jobs_total{queue="x"} 1 # {trace_id="abc"} 1 1700000000.5',
      '# HELP latency_seconds Latency.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{route="/",le="0.5"} 1 # {trace_id="f00d"} 0.25 1700000000',
      'latency_seconds_bucket{route="/",le="1.0"} 2',
      'latency_seconds_bucket{route="/",le="+Inf"} 2',
      'latency_seconds_sum{route="/"} 1.25',
      'latency_seconds_count{route="/"} 2',
      '# EOF',
      '',
    ].join('\n'),
  );
});

test('a counter named without _total gets the suffix on its OpenMetrics samples only', () => {
  const plain: MetricSnapshot = { name: 'restarts', help: 'h', type: 'counter', values: [{ value: 2 }] };
  assert.match(encode([plain], 'prometheus'), /^restarts 2$/m);
  assert.match(encode([plain], 'openmetrics'), /^# TYPE restarts counter\nrestarts_total 2$/m);
});

test('default labels are added after the series labels, never overriding them', () => {
  const g: MetricSnapshot = {
    name: 'g',
    help: 'h',
    type: 'gauge',
    values: [{ value: 1, labels: { app: 'mine' } }, { value: 2 }],
  };
  assert.equal(
    encode([g], 'prometheus', { app: 'default', pod: 'p-1' }),
    '# HELP g h\n# TYPE g gauge\ng{app="mine",pod="p-1"} 1\ng{app="default",pod="p-1"} 2\n',
  );
});
