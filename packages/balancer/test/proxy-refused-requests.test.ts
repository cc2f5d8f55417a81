import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture } from './support/balancer-fixture.ts';
import { rawExchange } from './support/raw-exchange.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

describe('requests refused before any backend', () => {
  // Node's own parser answers the framing it cannot read (431, 400) before the engine runs, and
  // the balancer's CONNECT listener answers CONNECT; the engine marks its refusals with a code.
  const byNode = new Set([
    'Content-Length with Transfer-Encoding',
    'no Host header',
    'oversized headers',
    'CONNECT',
  ]);
  const cases: Array<[string, string, number]> = [
    ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
    ['TRACE', 'TRACE /t HTTP/1.1\r\nHost: app.example\r\n\r\n', 405],
    [
      'absolute-form for another host',
      'GET http://evil.example/x HTTP/1.1\r\nHost: app.example\r\n\r\n',
      400,
    ],
    [
      'Transfer-Encoding: gzip',
      'POST /x HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: gzip\r\n\r\n',
      501,
    ],
    [
      'Transfer-Encoding: gzip, chunked',
      'POST /x HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      501,
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST /x HTTP/1.1\r\nHost: app.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'Transfer-Encoding in HTTP/1.0',
      'POST /x HTTP/1.0\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['two Host headers', 'GET /x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400],
    ['no Host header', 'GET /x HTTP/1.1\r\n\r\n', 400],
    [
      'oversized headers',
      `GET /x HTTP/1.1\r\nHost: app.example\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
    [
      'a WebSocket upgrade',
      'GET /ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      501,
    ],
    ['HTTP/2.0 on an HTTP/1 connection', 'GET /x HTTP/2.0\r\nHost: app.example\r\n\r\n', 505],
  ];
  for (const [name, text, status] of cases) {
    it(`refuses ${name} with ${status}`, async () => {
      const [a] = await fx.backends('a');
      const started = await fx.start([a!]);
      const answer = await rawExchange(started.proxy, text);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer.slice(0, 80));
      assert.equal(a!.seen.length, 0, 'the backend saw nothing');
      const coded = /\r\nx-readykit-error: RK_ERR_REQUEST_REFUSED\r\n/i.test(answer);
      assert.equal(coded, !byNode.has(name), 'x-readykit-error');
    });
  }
});
