import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tracing } from '../src/index.ts';
import { fakeRequest } from './support.ts';

function withTracing<T>(options: ConstructorParameters<typeof Tracing>[0], use: (tracing: Tracing) => T): T {
  const tracing = new Tracing(options);
  try {
    return use(tracing);
  } finally {
    tracing.close();
  }
}

test('defaults: W3C trace context and baggage, x-request-id, a 30 s budget clamped at 60 s, a 5 ms margin', () => {
  withTracing({ env: {} }, ({ settings }) => {
    assert.deepEqual(settings.propagators, ['tracecontext', 'baggage']);
    assert.equal(settings.requestIdHeader, 'x-request-id');
    assert.equal(settings.deadlineHeader, 'x-readykit-timeout-ms');
    assert.deepEqual([settings.defaultBudget, settings.maxBudget, settings.margin], [30_000, 60_000, 5]);
  });
});

test('OTEL_PROPAGATORS picks the formats; unknown and unsupported names are ignored with a one-line warning', () => {
  const warnings: string[] = [];
  const env = { OTEL_PROPAGATORS: 'b3multi, tracecontext,jaeger,\u001b[31mevil' };
  withTracing({ env, warn: (m) => warnings.push(m) }, ({ settings }) => {
    assert.deepEqual(settings.propagators, ['b3multi', 'tracecontext']);
  });
  assert.equal(warnings.length, 2);
  for (const warning of warnings) {
    assert.match(warning, /^OTEL_PROPAGATORS: ignoring /);
    assert.ok(
      [...warning].every((c) => c >= ' '),
      'control characters never reach the log',
    );
  }
  // Options win over the environment.
  withTracing({ env, propagators: ['b3'], warn: () => {} }, ({ settings }) => {
    assert.deepEqual(settings.propagators, ['b3']);
  });
});

test('bad options are refused at construction with a message naming the option', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ propagators: 'b3' }, /^propagators must be/],
    [{ propagators: ['jaeger'] }, /^propagators must be names among/],
    [{ requestIdHeader: 'x request id' }, /^requestIdHeader must be an HTTP header name/],
    [{ deadline: { header: '' } }, /^deadline.header must be an HTTP header name/],
    [{ deadline: { max: 0 } }, /^deadline.max must be a positive number/],
    [{ deadline: { default: 90_000 } }, /^deadline.default must be at most deadline.max/],
    [{ deadline: { margin: 0 } }, /^deadline.margin must be at least 1 ms/],
    [{ deadline: { grpcTimeout: 'yes' } }, /^deadline.grpcTimeout must be a boolean/],
    [{ deadline: { mxa: 1 } }, /^unknown option "deadline.mxa" \(did you mean "max"\?\)/],
    [{ propagator: ['b3'] }, /^unknown option "propagator" \(did you mean "propagators"\?\)/],
    [{ outgoing: 1 }, /^outgoing must be a boolean/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new Tracing(options as never),
      (error: Error & { code?: string }) =>
        error.code === 'RK_ERR_INVALID_OPTION' && message.test(error.message),
      `${JSON.stringify(options)} -> ${message}`,
    );
  }
});

test('budget rules: the smallest trusted header wins, clamped to max; malformed ones are ignored', () => {
  withTracing({ env: {}, deadline: { max: 10_000, default: 2_000 } }, (tracing) => {
    const budget = (headers: Record<string, string>) =>
      Math.round(tracing.contextFor(fakeRequest(headers)).remainingMs());
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 2_000],
      [{ 'x-readykit-timeout-ms': '1500' }, 1_500],
      [{ 'x-readykit-timeout-ms': '999999' }, 10_000],
      [{ 'grpc-timeout': '1S' }, 1_000],
      [{ 'grpc-timeout': '1H' }, 10_000],
      [{ 'grpc-timeout': '250m', 'x-readykit-timeout-ms': '900' }, 250],
      [{ 'x-envoy-expected-rq-timeout-ms': '700', 'grpc-timeout': '800m' }, 700],
      // Envoy's 0 means the route has no timeout: no information, not an expired budget.
      [{ 'x-envoy-expected-rq-timeout-ms': '0' }, 2_000],
      [{ 'x-readykit-timeout-ms': '0' }, 0],
      [{ 'x-readykit-timeout-ms': '-5' }, 2_000],
      [{ 'x-readykit-timeout-ms': '1e3' }, 2_000],
      [{ 'x-readykit-timeout-ms': '12.5' }, 2_000],
      [{ 'grpc-timeout': '123456789m' }, 2_000],
      [{ 'grpc-timeout': '5x' }, 2_000],
      [{ 'grpc-timeout': '-1S' }, 2_000],
      [{ 'x-readykit-timeout-ms': '9'.repeat(10_000) }, 2_000],
    ];
    for (const [headers, expected] of cases) {
      assert.ok(
        Math.abs(budget(headers) - expected) <= 2,
        `${JSON.stringify(headers).slice(0, 80)} -> ${expected}`,
      );
    }
  });
  withTracing({ env: {}, deadline: { grpcTimeout: false, envoy: false, header: 'x-budget' } }, (tracing) => {
    const left = tracing
      .contextFor(
        fakeRequest({ 'grpc-timeout': '1m', 'x-envoy-expected-rq-timeout-ms': '1', 'x-budget': '4000' }),
      )
      .remainingMs();
    assert.ok(Math.abs(left - 4000) <= 2);
  });
});

test('deadline is reported in epoch ms and the signal is only created on demand', () => {
  withTracing({ env: {} }, (tracing) => {
    const before = Date.now();
    const rc = tracing.contextFor(fakeRequest({ 'x-readykit-timeout-ms': '5000' }));
    assert.ok(rc.deadline >= before + 4990 && rc.deadline <= Date.now() + 5010);
    assert.equal(rc.signal.aborted, false);
    const expired = tracing.contextFor(fakeRequest({ 'grpc-timeout': '0n' }));
    assert.equal(expired.signal.aborted, true);
    assert.equal((expired.signal.reason as { code: string }).code, 'RK_ERR_DEADLINE_EXCEEDED');
  });
});
