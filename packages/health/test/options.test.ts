import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../src/errors.ts';
import { resolveHealthOptions } from '../src/options.ts';

test('defaults are useful, frozen, and Kubernetes-aware', () => {
  const outside = resolveHealthOptions({ env: {} });
  assert.equal(outside.shutdown.delay, 0);
  assert.equal(outside.checkTimeout, 500);
  assert.deepEqual(outside.paths, { liveness: ['/healthz', '/livez'], readiness: ['/readyz'] });
  assert.deepEqual(outside.shutdown.signals, ['SIGTERM', 'SIGINT']);
  assert.equal(outside.shutdown.terminationGracePeriod, 30_000);
  assert.ok(
    Object.isFrozen(outside) && Object.isFrozen(outside.shutdown) && Object.isFrozen(outside.paths.liveness),
  );
  const inside = resolveHealthOptions({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } });
  assert.equal(inside.shutdown.delay, 5000);
});

test('gates, checks and hooks in their short and long forms', () => {
  const check = () => true;
  const resolved = resolveHealthOptions({
    env: {},
    gates: { db: null, cache: async () => {}, jit: { warmup: async () => {}, retry: { initialDelay: 5 } } },
    readiness: { a: check, b: { check, timeout: 100, interval: 1000, critical: false } },
    hooks: { pool: () => {}, flush: { hook: () => {}, timeout: 500 } },
  });
  assert.deepEqual(
    resolved.gates.map((g) => [g.name, typeof g.warmup, g.retry.initialDelay]),
    [
      ['db', 'undefined', 200],
      ['cache', 'function', 200],
      ['jit', 'function', 5],
    ],
  );
  assert.deepEqual(
    resolved.readiness.map((c) => [c.name, c.timeout, c.interval, c.critical]),
    [
      ['a', 500, 0, true],
      ['b', 100, 1000, false],
    ],
  );
  assert.deepEqual(
    resolved.hooks.map((h) => [h.name, h.timeout]),
    [
      ['pool', 3000],
      ['flush', 500],
    ],
  );
  assert.deepEqual(
    resolveHealthOptions({ gates: ['db', 'cache'] }).gates.map((g) => g.name),
    ['db', 'cache'],
  );
});

test('invalid options are refused with a message naming the option', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ checkTimeout: -1 }, /^checkTimeout must be a positive number of milliseconds, got -1$/],
    [{ checkTimeout: 0 }, /^checkTimeout must be a positive/],
    [{ minWarmTime: '5s' }, /^minWarmTime must be a non-negative number of milliseconds, got "5s"$/],
    [{ readiness: { db: 42 } }, /^readiness\.db must be an object, got 42$/],
    [{ readiness: { db: { check: 'x' } } }, /^readiness\.db\.check must be a function/],
    [{ readiness: { db: { check: () => 1, timeout: Number.NaN } } }, /^readiness\.db\.timeout must be/],
    [{ readiness: { 'bad name': () => 1 } }, /^readiness names must be 1-64 letters, .*, got "bad name"$/],
    [{ gates: ['ok', 'in valid'] }, /^gates names must be 1-64 letters, .*, got "in valid"$/],
    [{ gates: [42] }, /^gates names must be 1-64 letters, .*, got 42$/],
    [{ gates: { db: 'soon' } }, /^gates\.db must be an object/],
    [
      { gates: { db: { retry: { initialDelay: 100, maxDelay: 10 } } } },
      /^gates\.db\.retry\.maxDelay must be >= initialDelay/,
    ],
    [{ paths: { readiness: ['readyz'] } }, /^paths\.readiness\[0\] must be a URL path/],
    [{ paths: { readiness: ['/readyz?x'] } }, /^paths\.readiness\[0\] must be a URL path/],
    [{ paths: { liveness: [] } }, /^paths\.liveness must be a non-empty array/],
    [{ paths: { liveness: ['/x'], readiness: ['/x'] } }, /^paths must be distinct paths, got "\/x"$/],
    [{ shutdown: { signals: ['TERM'] } }, /^shutdown\.signals must be an array of signal names/],
    [{ shutdown: { drainTimeout: -5 } }, /^shutdown\.drainTimeout must be/],
    [{ shutdown: { exit: 'yes' } }, /^shutdown\.exit must be a boolean, got "yes"$/],
    [{ eventLoop: { threshold: 0 } }, /^eventLoop\.threshold must be a positive/],
    [{ hooks: { x: {} } }, /^hooks\.x\.hook must be a function, got undefined$/],
    [{ exposeReasons: 1 }, /^exposeReasons must be a boolean/],
    [{ random: 3 }, /^random must be a function/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => resolveHealthOptions(options as never),
      (e: { code?: string; message?: string }) =>
        e.code === ErrorCodes.INVALID_OPTION && message.test(e.message ?? ''),
      JSON.stringify(options),
    );
  }
});

test('unknown option keys are refused, with the closest known name', () => {
  const cases: Array<[unknown, string]> = [
    [{ gate: ['db'] }, 'unknown option "gate" (did you mean "gates"?)'],
    [{ readyness: {} }, 'unknown option "readyness" (did you mean "readiness"?)'],
    [
      { shutdown: { drainTimout: 5 } },
      'unknown option "shutdown.drainTimout" (did you mean "drainTimeout"?)',
    ],
    [
      { readiness: { db: { check: () => 1, timout: 5 } } },
      'unknown option "readiness.db.timout" (did you mean "timeout"?)',
    ],
    [{ gates: { db: { retry: { max: 5 } } } }, 'unknown option "gates.db.retry.max"'],
    [{ paths: { ready: ['/r'] } }, 'unknown option "paths.ready"'],
    [{ eventLoop: { treshold: 5 } }, 'unknown option "eventLoop.treshold" (did you mean "threshold"?)'],
    [{ hooks: { a: { hook: () => {}, time: 1 } } }, 'unknown option "hooks.a.time"'],
    [{ components: [] }, 'unknown option "components"'],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => resolveHealthOptions(options as never),
      { code: ErrorCodes.INVALID_OPTION, message },
      message,
    );
  }
});

test('a check and a gate cannot share a name', () => {
  assert.throws(() => resolveHealthOptions({ gates: ['db'], readiness: { db: () => 1 } }), {
    code: ErrorCodes.DUPLICATE_NAME,
    message: 'readiness: the name "db" is used twice',
  });
});

test('a shutdown timeline that cannot fit the grace period is refused, naming the options', () => {
  assert.throws(
    () =>
      resolveHealthOptions({
        env: {},
        shutdown: { delay: 10_000, drainTimeout: 15_000, terminationGracePeriod: 30_000 },
        hooks: { pool: { hook: () => {}, timeout: 4000 }, flush: { hook: () => {}, timeout: 2000 } },
      }),
    {
      code: ErrorCodes.SHUTDOWN_BUDGET,
      message:
        'shutdown.delay (10000 ms) + shutdown.drainTimeout (15000 ms) + hooks (pool 4000, flush 2000 ms) = 31000 ms' +
        ' does not fit shutdown.terminationGracePeriod (30000 ms)',
    },
  );
  assert.doesNotThrow(() =>
    resolveHealthOptions({
      env: {},
      shutdown: { delay: 10_000, drainTimeout: 17_000, hookTimeout: 3000 },
      hooks: { a: () => {} },
    }),
  );
});
