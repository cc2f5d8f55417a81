import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { getRequestContext, Tracing } from '../src/index.ts';
import { fakeRequest, serveTraced } from './support.ts';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const SAFE_ID = /^[A-Za-z0-9._~:/+=@-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HEADERS = [
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-request-id',
  'x-readykit-timeout-ms',
  'grpc-timeout',
  'x-envoy-expected-rq-timeout-ms',
];

// Values a client can put on the wire: visible ASCII, space, tab and obs-text bytes, plus the
// shapes that sit near the valid ones (hex runs, dashes, digits with units).
const nearValid = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-'), maxLength: 70 }),
  fc.string({ unit: fc.constantFrom(...'0123456789HMSmun-+. '), maxLength: 12 }),
  fc.string({
    unit: fc.integer({ min: 0x09, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.constantFrom('', '0', '-1', '99999999999999999999', 'Infinity', 'NaN', '1e3', 'x'.repeat(10_240)),
);
const headerSets = fc.dictionary(fc.constantFrom(...HEADERS), nearValid, { maxKeys: 6 });

test('any mix of header values: never throws, valid ids always, a bad request id is never kept, budget within bounds', () => {
  const tracing = new Tracing({
    env: {},
    propagators: ['tracecontext', 'baggage', 'b3', 'b3multi'],
    deadline: { max: 10_000, default: 2_000 },
  });
  try {
    fc.assert(
      fc.property(headerSets, (headers) => {
        const rc = tracing.contextFor(fakeRequest(headers));
        assert.match(rc.traceId, HEX32);
        assert.notEqual(rc.traceId, '0'.repeat(32));
        assert.match(rc.spanId, HEX16);
        if (rc.parentSpanId !== undefined) assert.match(rc.parentSpanId, HEX16);
        assert.match(rc.requestId, SAFE_ID);
        const sent = headers['x-request-id'];
        if (sent !== undefined && SAFE_ID.test(sent)) assert.equal(rc.requestId, sent, 'a valid id is kept');
        else assert.match(rc.requestId, UUID, 'anything else is replaced by a generated id');
        const left = rc.remainingMs();
        assert.ok(left >= 0 && left <= 10_000, `budget ${left}`);
        if (rc.traceState !== undefined) assert.ok(rc.traceState.length <= 512);
        if (rc.baggage !== undefined) assert.ok(Buffer.byteLength(rc.baggage) <= 8192);
      }),
      { seed: 4242, numRuns: 3000 },
    );
  } finally {
    tracing.close();
  }
});

/** Sends one request as raw bytes (latin1), returns the raw response text. */
function rawRequest(url: string, headerLines: string[]): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      response += chunk;
    });
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
    socket.write(
      `GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines.map((l) => `${l}\r\n`).join('')}\r\n`,
      'latin1',
    );
  });
}

test('malformed headers over a real socket: answered (or refused by Node) without echo, and the server lives on', async () => {
  const server = await serveTraced({ env: {}, propagators: ['tracecontext', 'b3'] }, async () => {
    const rc = getRequestContext();
    return { traceId: rc?.traceId, requestId: rc?.requestId, budget: Math.round(rc?.remainingMs() ?? -1) };
  });
  const cases: Array<[string, string]> = [
    ['traceparent', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0'],
    ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011'],
    ['traceparent', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['traceparent', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['traceparent', `00-${'a'.repeat(10_240)}`],
    ['x-request-id', '<script>alert(1)</script>'],
    ['x-request-id', 'has spaces and "quotes"'],
    ['x-request-id', 'tab\there'],
    ['x-request-id', '\u00e9t\u00e9-obs-text'],
    ['x-request-id', 'a'.repeat(129)],
    ['x-request-id', 'x'.repeat(10_240)],
    ['x-request-id', 'bell\u0007char'],
    ['grpc-timeout', '123456789m'],
    ['grpc-timeout', '10x'],
    ['grpc-timeout', '-5S'],
    ['x-readykit-timeout-ms', '-1'],
    ['x-readykit-timeout-ms', '99999999999999999999999'],
    ['b3', 'not-b3-at-all'],
    ['tracestate', Array.from({ length: 40 }, (_, i) => `k${i}=v`).join(',')],
  ];
  try {
    for (const [name, value] of cases) {
      const response = await rawRequest(server.url, [`${name}: ${value}`]);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
      const label = `${name}: ${value.slice(0, 40)}`;
      // Node's own parser refuses control characters with 400 before any middleware runs.
      assert.ok(status === 200 || status === 400, `${label} -> ${status}`);
      if (value.length > 3) assert.ok(!response.includes(value), `${label} is never echoed`);
      if (status !== 200) continue;
      const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
        traceId: string;
        requestId: string;
        budget: number;
      };
      assert.match(body.traceId, HEX32, label);
      assert.match(body.requestId, SAFE_ID, label);
      assert.match(/\r\nx-request-id: ([^\r]*)\r\n/i.exec(response)?.[1] ?? '', SAFE_ID, label);
      assert.ok(body.budget >= 0 && body.budget <= 60_000, `${label} budget ${body.budget}`);
    }
    const healthy = await rawRequest(server.url, ['x-request-id: still-here']);
    assert.match(healthy, /^HTTP\/1\.1 200/);
    assert.match(healthy, /x-request-id: still-here/i);
  } finally {
    await server.close();
  }
});
