import assert from 'node:assert/strict';
import { hasSubscribers } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { HopPropagation, type TracingOptions } from '../src/index.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const B3_TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const B3_SPAN = 'e457b5a2e4d86bd1';
const HEX16 = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function hop(options: TracingOptions = {}): HopPropagation {
  return new HopPropagation({ env: {}, warn: () => {}, ...options });
}

/** The headers one attempt carries, as a lowercase map; a name written twice fails the test. */
function forward(propagation: HopPropagation, raw: string[]): Map<string, string> {
  const out: string[] = [];
  propagation.write(propagation.read(raw), out);
  const headers = new Map<string, string>();
  for (let i = 0; i < out.length; i += 2) {
    assert.ok(!headers.has(out[i]!), `${out[i]} written once`);
    headers.set(out[i]!, out[i + 1]!);
  }
  return headers;
}

/** `[version, traceId, spanId, flags]` of a written traceparent. */
function traceparentOf(headers: Map<string, string>): string[] {
  const value = headers.get('traceparent');
  assert.ok(value !== undefined, 'traceparent written');
  return value.split('-');
}

test('constructing a hop neither registers a context manager nor subscribes diagnostics channels', () => {
  hop({ outgoing: true });
  assert.equal(hasSubscribers('undici:request:create'), false);
  assert.equal(hasSubscribers('http.client.request.created'), false);
  const key = createContextKey('probe');
  // The OpenTelemetry API's no-op manager keeps nothing: proof that none was registered.
  assert.equal(
    context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key)),
    undefined,
  );
});

test('continues the incoming W3C trace with a new span id, keeping tracestate, baggage and the request id', () => {
  const headers = forward(hop(), [
    'TraceParent',
    `00-${TRACE}-${PARENT}-01`,
    'tracestate',
    'congo=t61rcWkgMzE',
    'Baggage',
    'userId=alice',
    'X-Request-ID',
    'req-42',
  ]);
  const [version, traceId, spanId, flags] = traceparentOf(headers);
  assert.deepEqual([version, traceId, flags], ['00', TRACE, '01']);
  assert.match(spanId!, HEX16);
  assert.notEqual(spanId, PARENT);
  assert.equal(headers.get('tracestate'), 'congo=t61rcWkgMzE');
  assert.equal(headers.get('baggage'), 'userId=alice');
  assert.equal(headers.get('x-request-id'), 'req-42');
  assert.equal(headers.has('b3'), false, 'b3 is not configured');
});

test('unsampled and future-version traces keep their flag; version is written as 00', () => {
  for (const [incoming, flags] of [
    [`00-${TRACE}-${PARENT}-00`, '00'],
    [`01-${TRACE}-${PARENT}-01-future`, '01'],
  ] as const) {
    const [version, traceId, , written] = traceparentOf(forward(hop(), ['traceparent', incoming]));
    assert.deepEqual([version, traceId, written], ['00', TRACE, flags], incoming);
  }
});

test('starts a trace, drops tracestate and invalid baggage, and mints a request id when the incoming ones are bad', () => {
  for (const raw of [
    [],
    ['traceparent', `00-${TRACE}-0000000000000000-01`, 'tracestate', 'congo=t61rcWkgMzE'],
    ['traceparent', `00-${TRACE}-${PARENT}-01`, 'traceparent', `00-${TRACE}-${PARENT}-01`],
    ['traceparent', 'garbage', 'baggage', 'no equals sign', 'x-request-id', 'has space'],
    ['x-request-id', 'a', 'x-request-id', 'b'],
    ['x-request-id', 'x'.repeat(129)],
  ]) {
    const headers = forward(hop(), raw);
    const [version, traceId, spanId, flags] = traceparentOf(headers);
    assert.equal(version, '00');
    assert.notEqual(traceId, TRACE, JSON.stringify(raw));
    assert.match(traceId!, /^[0-9a-f]{32}$/);
    assert.match(spanId!, HEX16);
    assert.equal(flags, '01', 'a trace started here is sampled');
    assert.equal(headers.has('tracestate'), false);
    assert.equal(headers.has('baggage'), false);
    assert.match(headers.get('x-request-id')!, UUID);
  }
});

test('the budget: smallest header, clamped to max, default when none, minus the margin', () => {
  const cases: Array<[raw: string[], options: TracingOptions, budget: number]> = [
    [[], {}, 30_000],
    [['x-readykit-timeout-ms', '2000'], {}, 2000],
    [['x-readykit-timeout-ms', '2000', 'grpc-timeout', '1S'], {}, 1000],
    [['x-readykit-timeout-ms', '2000', 'X-Envoy-Expected-Rq-Timeout-Ms', '1500'], {}, 1500],
    [['x-readykit-timeout-ms', '2000', 'x-envoy-expected-rq-timeout-ms', '0'], {}, 2000],
    [['x-readykit-timeout-ms', '2000', 'grpc-timeout', '1S'], { deadline: { grpcTimeout: false } }, 2000],
    [['x-readykit-timeout-ms', '900000'], {}, 60_000],
    [['x-readykit-timeout-ms', '-5'], { deadline: { default: 700 } }, 700],
    [['x-readykit-timeout-ms', '1000', 'x-readykit-timeout-ms', '10'], { deadline: { default: 700 } }, 700],
    [['x-budget', '400'], { deadline: { header: 'x-budget', margin: 50 } }, 400],
  ];
  for (const [raw, options, budget] of cases) {
    const propagation = hop(options);
    const requestContext = propagation.read(raw);
    const remaining = requestContext.remainingMs();
    assert.ok(remaining <= budget && remaining > budget - 50, `${JSON.stringify(raw)}: ${remaining}`);
    const out: string[] = [];
    propagation.write(requestContext, out);
    const header = propagation.settings.deadlineHeader;
    const sent = Number(headerValue(out, header));
    const margin = propagation.settings.margin;
    // floor(remaining - margin): the time spent since read() can take off one more ms.
    assert.ok(sent <= budget - margin && sent >= budget - margin - 2, `${JSON.stringify(raw)}: sent ${sent}`);
  }
});

test('an expired budget is sent as 0', () => {
  const headers = forward(hop(), ['x-readykit-timeout-ms', '0']);
  assert.equal(headers.get('x-readykit-timeout-ms'), '0');
});

test('each attempt gets its own span id and the budget left at that moment', async () => {
  const propagation = hop();
  const requestContext = propagation.read([
    'traceparent',
    `00-${TRACE}-${PARENT}-01`,
    'x-readykit-timeout-ms',
    '5000',
  ]);
  const first: string[] = [];
  propagation.write(requestContext, first);
  await sleep(30);
  const second: string[] = [];
  propagation.write(requestContext, second);
  const span = (headers: string[]) => headerValue(headers, 'traceparent')!.split('-')[2];
  const budget = (headers: string[]) => Number(headerValue(headers, 'x-readykit-timeout-ms'));
  assert.notEqual(span(first), span(second));
  assert.equal(headerValue(first, 'x-request-id'), headerValue(second, 'x-request-id'));
  assert.ok(budget(first) - budget(second) >= 25, `${budget(first)} then ${budget(second)}`);
});

function headerValue(headers: string[], name: string): string | undefined {
  const at = headers.indexOf(name);
  return at < 0 ? undefined : headers[at + 1];
}

test('B3 is read and written only when configured', () => {
  const b3 = `${B3_TRACE}-${B3_SPAN}-1`;
  const plain = forward(hop(), ['b3', b3]);
  assert.notEqual(traceparentOf(plain)[1], B3_TRACE, 'without the b3 propagator, b3 is not read');
  assert.equal(plain.has('b3'), false, 'nor written (the incoming one passes the hop untouched)');

  const single = forward(hop({ propagators: ['tracecontext', 'b3'] }), ['B3', b3]);
  assert.equal(traceparentOf(single)[1], B3_TRACE);
  const [traceId, spanId, sampled, parent] = single.get('b3')!.split('-');
  assert.equal(traceId, B3_TRACE);
  assert.match(spanId!, HEX16);
  assert.notEqual(spanId, B3_SPAN);
  assert.equal(sampled, '1');
  assert.match(parent!, HEX16);

  const multi = forward(hop({ propagators: ['b3multi'] }), [
    'X-B3-TraceId',
    B3_TRACE,
    'X-B3-SpanId',
    B3_SPAN,
    'X-B3-Sampled',
    '0',
  ]);
  assert.equal(multi.get('x-b3-traceid'), B3_TRACE);
  assert.notEqual(multi.get('x-b3-spanid'), B3_SPAN);
  assert.equal(multi.get('x-b3-sampled'), '0');
  assert.equal(multi.has('traceparent'), false, 'tracecontext not configured');

  const repeated = forward(hop({ propagators: ['b3multi'] }), [
    'x-b3-traceid',
    B3_TRACE,
    'x-b3-traceid',
    B3_TRACE,
    'x-b3-spanid',
    B3_SPAN,
  ]);
  assert.notEqual(repeated.get('x-b3-traceid'), B3_TRACE, 'a repeated x-b3 header is refused');
});

test('rewrites names exactly the headers write() may set, per configuration', () => {
  const cases: Array<[options: TracingOptions, rewrites: string[]]> = [
    [{}, ['traceparent', 'tracestate', 'baggage', 'x-request-id', 'x-readykit-timeout-ms']],
    [
      {
        propagators: ['b3', 'b3multi'],
        requestIdHeader: 'X-Correlation-ID',
        deadline: { header: 'x-budget' },
      },
      [
        'b3',
        'x-b3-traceid',
        'x-b3-spanid',
        'x-b3-parentspanid',
        'x-b3-sampled',
        'x-b3-flags',
        'x-correlation-id',
        'x-budget',
      ],
    ],
    [{ propagators: [] }, ['x-request-id', 'x-readykit-timeout-ms']],
  ];
  for (const [options, rewrites] of cases) {
    const propagation = hop(options);
    assert.deepEqual([...propagation.rewrites], rewrites);
    const written = forward(propagation, [
      'traceparent',
      `00-${TRACE}-${PARENT}-01`,
      'tracestate',
      'a=b',
      'baggage',
      'k=v',
      'b3',
      `${B3_TRACE}-${B3_SPAN}-1-${PARENT}`,
    ]);
    for (const name of written.keys()) assert.ok(rewrites.includes(name), `${name} is announced in rewrites`);
  }
});

test('OTEL_PROPAGATORS applies as for Tracing', () => {
  const propagation = new HopPropagation({ env: { OTEL_PROPAGATORS: 'b3' }, warn: () => {} });
  assert.deepEqual(propagation.settings.propagators, ['b3']);
  assert.deepEqual([...propagation.rewrites], ['b3', 'x-request-id', 'x-readykit-timeout-ms']);
});

test('options are validated as for Tracing', () => {
  assert.throws(() => new HopPropagation({ deadline: { margin: 0 } }), { code: 'RK_ERR_INVALID_OPTION' });
  assert.throws(() => new HopPropagation({ requestIdHeader: 'bad header' }), {
    code: 'RK_ERR_INVALID_OPTION',
  });
});
