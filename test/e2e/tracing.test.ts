import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

// client (this process) -> example service A -> example service B (A's INVENTORY_URL), each a
// real process. B's /api/stock/:id answer says what B saw; A nests it in its own answer.
const started: ServiceProcess[] = [];
after(async () => {
  for (const service of started) service.kill('SIGKILL');
});

async function service(env: Record<string, string> = {}, options: Parameters<typeof startService>[1] = {}) {
  const s = await startService({ WARMUP_MS: '0', SHUTDOWN_DELAY_MS: '0', ...env }, options);
  started.push(s);
  return s;
}

interface TraceView {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  sampled: boolean;
  requestId: string;
  budgetMs: number;
}

async function chain(a: ServiceProcess, headers: Record<string, string>) {
  const response = await fetch(`${a.url}/api/items/7/stock`, { headers });
  const body = (await response.json()) as { trace: TraceView; inventory: { trace: TraceView } };
  return { response, a: body.trace, b: body.inventory?.trace, body };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

test('W3C in: the downstream sees the same trace and request id, a new parent span and a smaller budget', async () => {
  const b = await service();
  const a = await service({ INVENTORY_URL: b.url });
  const {
    response,
    a: atA,
    b: atB,
  } = await chain(a, {
    traceparent: `00-${TRACE}-${PARENT}-01`,
    'x-request-id': 'e2e-1',
    'x-readykit-timeout-ms': '4000',
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-request-id'), 'e2e-1');
  assert.deepEqual([atA.traceId, atB.traceId], [TRACE, TRACE]);
  assert.deepEqual([atA.requestId, atB.requestId], ['e2e-1', 'e2e-1']);
  assert.equal(atA.parentSpanId, PARENT);
  assert.match(atB.parentSpanId ?? '', /^[0-9a-f]{16}$/);
  assert.notEqual(atB.parentSpanId, PARENT, 'B is parented on the span of A that called it');
  assert.notEqual(atB.spanId, atA.spanId);
  assert.ok(atA.budgetMs <= 4000 && atA.budgetMs > 3000, `A's budget ${atA.budgetMs}`);
  assert.ok(atB.budgetMs < atA.budgetMs, `B's budget ${atB.budgetMs} < A's ${atA.budgetMs}`);
});

test('B3 in: A continues the trace and sends it on both as W3C and as B3', async () => {
  // Each downstream reads one format only, so it can only have found the trace in that one.
  const [bW3c, bB3] = await Promise.all([
    service({ OTEL_PROPAGATORS: 'tracecontext' }),
    service({ OTEL_PROPAGATORS: 'b3' }),
  ]);
  const [toW3c, toB3] = await Promise.all([
    service({ INVENTORY_URL: bW3c.url, OTEL_PROPAGATORS: 'b3,tracecontext' }),
    service({ INVENTORY_URL: bB3.url, OTEL_PROPAGATORS: 'b3,tracecontext' }),
  ]);
  for (const a of [toW3c, toB3]) {
    const { a: atA, b: atB } = await chain(a, { b3: `${TRACE}-${PARENT}-1`, 'x-request-id': 'e2e-b3' });
    assert.equal(atA.traceId, TRACE);
    assert.equal(atA.parentSpanId, PARENT);
    assert.equal(atB.traceId, TRACE);
    assert.notEqual(atB.parentSpanId, null);
    assert.notEqual(atB.parentSpanId, PARENT);
    assert.equal(atB.requestId, 'e2e-b3');
  }
});

test('an expired budget aborts the outgoing call: 504, and the downstream never sees it', async () => {
  const b = await service();
  const a = await service({ INVENTORY_URL: b.url });
  const { response, body } = await chain(a, { 'x-readykit-timeout-ms': '2' });
  assert.equal(response.status, 504);
  assert.deepEqual(body, { error: 'deadline exceeded before the inventory service answered' });
  const scrape = await (await fetch(`${b.url}/metrics`)).text();
  assert.doesNotMatch(scrape, /route="\/api\/stock\/:id"/, 'B served no stock request');
  // A budget that does leave room still goes through.
  assert.equal((await chain(a, { 'grpc-timeout': '3S' })).response.status, 200);
});

test('full SDK mode (--import @readykit/tracing/register): OTLP spans with parent links, route and status; flushed on SIGTERM', async () => {
  const receiver = await startOtlpReceiver();
  try {
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Far longer than the test: spans can only arrive through the flush at shutdown.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    };
    const nodeArgs = ['--import', '@readykit/tracing/register'];
    const b = await service({ ...otel, OTEL_SERVICE_NAME: 'inventory' }, { nodeArgs });
    const a = await service({ ...otel, OTEL_SERVICE_NAME: 'shop', INVENTORY_URL: b.url }, { nodeArgs });
    const {
      response,
      a: atA,
      b: atB,
    } = await chain(a, {
      traceparent: `00-${TRACE}-${PARENT}-01`,
      'x-request-id': 'e2e-sdk',
      'x-readykit-timeout-ms': '5000',
    });
    assert.equal(response.status, 200);
    // The kit reads the SDK's spans instead of running its own: ids match what is exported below.
    assert.deepEqual([atA.traceId, atB.traceId], [TRACE, TRACE]);
    assert.deepEqual([atA.requestId, atB.requestId], ['e2e-sdk', 'e2e-sdk']);
    assert.ok(atB.budgetMs < atA.budgetMs);
    await fetch(`${a.url}/readyz`);
    assert.equal(receiver.spans.length, 0, 'nothing exported before shutdown');
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    const exits = await Promise.all([a.exited, b.exited]);
    assert.deepEqual(
      exits.map((e) => e.code),
      [0, 0],
    );
    const spans = receiver.spans;
    const byName = (service: string, name: string): ReceivedSpan => {
      const span = spans.find((s) => s.service === service && s.name === name);
      assert.ok(
        span,
        `${service}: ${name} in ${JSON.stringify(spans.map((s) => `${s.service}: ${s.name}`))}`,
      );
      return span;
    };
    const serverA = byName('shop', 'GET /api/items/:id/stock');
    const serverB = byName('inventory', 'GET /api/stock/:id');
    assert.ok(
      spans.every((s) => s.traceId === TRACE),
      'one trace across both services',
    );
    assert.equal(serverA.parentSpanId, PARENT);
    assert.equal(serverA.spanId, atA.spanId);
    assert.equal(serverA.kind, 2, 'SERVER');
    assert.equal(serverA.attributes['http.route'], '/api/items/:id/stock');
    assert.equal(
      serverA.attributes['http.response.status_code'] ?? serverA.attributes['http.status_code'],
      200,
    );
    const clientA = spans.find((s) => s.service === 'shop' && s.kind === 3);
    assert.ok(clientA, 'the fetch to B is a CLIENT span');
    assert.equal(serverB.parentSpanId, clientA.spanId, "B's server span is a child of A's client span");
    assert.equal(atB.parentSpanId, clientA.spanId);
    assert.equal(serverB.attributes['http.route'], '/api/stock/:id');
    // Express middleware and handler spans hang under the server span.
    assert.ok(
      spans.some((s) => s.service === 'shop' && s.scope.includes('express') && s.parentSpanId !== ''),
    );
    assert.ok(!spans.some((s) => s.name.includes('readyz')), 'probes are not traced');
  } finally {
    await receiver.close();
  }
});

test('full SDK mode traces a CommonJS app too', async () => {
  const receiver = await startOtlpReceiver();
  try {
    const app = await service(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'cjs',
      },
      {
        nodeArgs: ['--import', '@readykit/tracing/register'],
        script: fileURLToPath(new URL('fixtures/commonjs-app.cjs', import.meta.url)),
      },
    );
    const response = await fetch(`${app.url}/api/hello/ada`, {
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
    });
    const body = (await response.json()) as { traceId: string };
    assert.equal(body.traceId, TRACE);
    app.kill('SIGTERM');
    assert.equal((await app.exited).code, 0);
    const server = receiver.spans.find((s) => s.kind === 2);
    assert.equal(server?.name, 'GET /api/hello/:name');
    assert.equal(server?.attributes['http.route'], '/api/hello/:name');
    assert.ok(
      receiver.spans.some((s) => s.scope.includes('express')),
      'Express was instrumented',
    );
  } finally {
    await receiver.close();
  }
});
