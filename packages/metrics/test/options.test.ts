import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import {
  DEFAULT_BUCKETS,
  DEFAULT_ELU_INTERVAL,
  DEFAULT_ELU_WINDOW,
  DEFAULT_MAX_SERIES,
  DEFAULT_METRICS_PATH,
  ErrorCodes,
  ReadykitError,
} from '../src/index.ts';
import { type MetricsOptions, resolveMetricsOptions } from '../src/options.ts';
import { testHealth } from './support.ts';

test('defaults', () => {
  const o = resolveMetricsOptions();
  assert.equal(o.registry, undefined);
  assert.equal(o.semconv, false);
  assert.deepEqual(o.buckets, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  assert.deepEqual(o.buckets, DEFAULT_BUCKETS);
  assert.equal(o.maxSeries, DEFAULT_MAX_SERIES);
  assert.equal(o.maxSeries, 1000);
  assert.equal(o.route, undefined);
  assert.equal(o.exemplar, undefined);
  assert.equal(o.path, DEFAULT_METRICS_PATH);
  assert.equal(o.path, '/metrics');
  assert.deepEqual(o.runtime, {
    prefix: '',
    defaultMetrics: true,
    eventLoopUtilization: { window: DEFAULT_ELU_WINDOW, interval: DEFAULT_ELU_INTERVAL },
  });
  assert.equal(DEFAULT_ELU_WINDOW, 10_000);
  assert.equal(o.health, undefined);
});

test('the resolved options are frozen and never alias the caller', () => {
  const buckets = [0.1, 1];
  const runtime = { prefix: 'app_', eventLoopUtilization: { window: 5000 } };
  const o = resolveMetricsOptions({ buckets, runtime });
  buckets.push(10);
  runtime.eventLoopUtilization.window = 1;
  assert.deepEqual(o.buckets, [0.1, 1]);
  assert.deepEqual(o.runtime, {
    prefix: 'app_',
    defaultMetrics: true,
    eventLoopUtilization: { window: 5000, interval: 1000 },
  });
  assert.ok(Object.isFrozen(o));
  assert.ok(Object.isFrozen(o.buckets));
  // deepEqual above narrowed o.runtime to the object form.
  assert.ok(Object.isFrozen(o.runtime) && Object.isFrozen(o.runtime.eventLoopUtilization));
});

test('the registry and the Health instance are kept by reference, not frozen', () => {
  const registry = new Registry();
  const health = testHealth();
  const o = resolveMetricsOptions({ registry, health });
  assert.equal(o.registry, registry);
  assert.equal(o.health, health);
  assert.ok(!Object.isFrozen(registry));
  assert.ok(!Object.isFrozen(health));
  void health.close();
});

test('a sampling interval defaults to the window when the window is shorter than 1 s', () => {
  const o = resolveMetricsOptions({ runtime: { eventLoopUtilization: { window: 400 } } });
  assert.deepEqual(o.runtime !== false && o.runtime.eventLoopUtilization, { window: 400, interval: 400 });
  assert.equal(resolveMetricsOptions({ runtime: false }).runtime, false);
  const noElu = resolveMetricsOptions({ runtime: { eventLoopUtilization: false } });
  assert.equal(noElu.runtime !== false && noElu.runtime.eventLoopUtilization, false);
});

test('a trailing slash is dropped from the path', () => {
  assert.equal(resolveMetricsOptions({ path: '/internal/metrics/' }).path, '/internal/metrics');
});

const invalid: Array<[string, unknown, RegExp]> = [
  ['options', 'yes', /^options must be an object, got "yes"$/],
  ['semconv', { semconv: 'true' }, /^semconv must be a boolean, got "true"$/],
  ['buckets', { buckets: [] }, /^buckets must be a non-empty array/],
  ['buckets', { buckets: 0.5 }, /^buckets must be a non-empty array/],
  [
    'buckets[1]',
    { buckets: [0.1, 0.1] },
    /^buckets\[1\] must be greater than buckets\[0\] \(0\.1\), got 0\.1$/,
  ],
  ['buckets[0]', { buckets: [-1] }, /^buckets\[0\] must be a finite positive number of seconds, got -1$/],
  ['buckets[0]', { buckets: [Number.POSITIVE_INFINITY] }, /^buckets\[0\] must be a finite positive/],
  ['maxSeries', { maxSeries: 0 }, /^maxSeries must be a positive integer, got 0$/],
  ['maxSeries', { maxSeries: 1.5 }, /^maxSeries must be a positive integer, got 1\.5$/],
  ['route', { route: '/users/:id' }, /^route must be a function, got "\/users\/:id"$/],
  ['exemplar', { exemplar: true }, /^exemplar must be a function, got true$/],
  ['path', { path: 'metrics' }, /^path must be a URL path starting with "\/"/],
  ['path', { path: '/metrics?x=1' }, /^path must be a URL path/],
  ['registry', { registry: {} }, /^registry must be a prom-client Registry, got a object$/],
  ['health', { health: { state: 'ready' } }, /^health must be a Health instance/],
  ['runtime', { runtime: true }, /^runtime must be an object, got true$/],
  ['runtime.prefix', { runtime: { prefix: 'my-app_' } }, /^runtime\.prefix must be a metric name prefix/],
  [
    'runtime.defaultMetrics',
    { runtime: { defaultMetrics: 1 } },
    /^runtime\.defaultMetrics must be a boolean/,
  ],
  [
    'runtime.eventLoopUtilization.window',
    { runtime: { eventLoopUtilization: { window: 0 } } },
    /^runtime\.eventLoopUtilization\.window must be a positive number of milliseconds, got 0$/,
  ],
  [
    'runtime.eventLoopUtilization.interval',
    { runtime: { eventLoopUtilization: { window: 1000, interval: 2000 } } },
    /^runtime\.eventLoopUtilization\.interval must be <= window \(1000\), got 2000$/,
  ],
];

for (const [path, options, message] of invalid) {
  test(`refuses an invalid ${path}, naming it`, () => {
    assert.throws(
      () => resolveMetricsOptions(options as MetricsOptions),
      (error: unknown) => {
        assert.ok(error instanceof ReadykitError);
        assert.equal(error.code, ErrorCodes.INVALID_OPTION);
        assert.equal(error.code, 'RK_ERR_INVALID_OPTION');
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test('unknown keys are refused with the closest known name', () => {
  const cases: Array<[unknown, string]> = [
    [{ maxSerie: 10 }, 'unknown option "maxSerie" (did you mean "maxSeries"?)'],
    [{ semConv: true }, 'unknown option "semConv" (did you mean "semconv"?)'],
    [{ registery: new Registry() }, 'unknown option "registery" (did you mean "registry"?)'],
    [{ whatever: 1 }, 'unknown option "whatever"'],
    [{ runtime: { prefx: 'a_' } }, 'unknown option "runtime.prefx" (did you mean "prefix"?)'],
    [
      { runtime: { eventLoopUtilization: { windw: 1 } } },
      'unknown option "runtime.eventLoopUtilization.windw" (did you mean "window"?)',
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => resolveMetricsOptions(options as MetricsOptions), {
      code: ErrorCodes.INVALID_OPTION,
      message,
    });
  }
});

test('error codes are the kit-wide ones', () => {
  assert.deepEqual(ErrorCodes, {
    INVALID_OPTION: 'RK_ERR_INVALID_OPTION',
    DUPLICATE_NAME: 'RK_ERR_DUPLICATE_NAME',
    LIFECYCLE: 'RK_ERR_LIFECYCLE',
  });
});
