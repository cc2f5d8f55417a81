import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { type Served, serve } from '../../../../test/support/loopback-server.ts';
import { type GuardedRequest, originForm, Refusals, refuseRequest } from '../../src/proxy/request-guard.ts';

let server: Served;
let port = 0;
let guarded = 0;

function answer(req: IncomingMessage, write: (status: number, body: string) => void): void {
  guarded++;
  const refusal = refuseRequest(req);
  if (refusal === undefined) write(200, `forward ${originForm(req.url ?? '')}`);
  else write(refusal.status, refusal.reason);
}

before(async () => {
  server = await serve((req, res) => {
    answer(req, (status, body) => {
      res.writeHead(status, { connection: 'close', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  port = Number(new URL(server.url).port);
});
after(() => server.close());

/** Sends raw bytes and returns everything the server wrote before closing (or 2 s passed). */
function exchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') resolve(data);
      else reject(error);
    });
    socket.on('close', () => resolve(data));
    socket.setTimeout(2000, () => socket.destroy());
    socket.write(bytes);
  });
}

function statusLine(response: string): string {
  return response.slice(0, response.indexOf('\r\n'));
}

function body(response: string): string {
  return response.slice(response.indexOf('\r\n\r\n') + 4);
}

const HOST = 'Host: app.example\r\n';

/** [name, raw request, status, body]: body `undefined` where Node answers before the guard runs. */
const CASES: Array<[name: string, bytes: string, status: number, body: string | undefined]> = [
  ['a plain GET', `GET /a?b=1 HTTP/1.1\r\n${HOST}\r\n`, 200, 'forward /a?b=1'],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', 200, 'forward /'],
  ['OPTIONS *', `OPTIONS * HTTP/1.1\r\n${HOST}\r\n`, 200, 'forward *'],
  ['absolute-form matching Host', `GET http://APP.example/x?y HTTP/1.1\r\n${HOST}\r\n`, 200, 'forward /x?y'],
  ['absolute-form, no path', `GET https://app.example HTTP/1.1\r\n${HOST}\r\n`, 200, 'forward /'],
  ['chunked body', `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`, 200, 'forward /'],
  [
    'h2c upgrade is ignored',
    `GET / HTTP/1.1\r\n${HOST}Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n`,
    200,
    'forward /',
  ],
  [
    'absolute-form naming another host',
    `GET http://internal.example/admin HTTP/1.1\r\n${HOST}\r\n`,
    400,
    Refusals.authority.reason,
  ],
  [
    'absolute-form with userinfo',
    `GET http://u@app.example/ HTTP/1.1\r\n${HOST}\r\n`,
    400,
    Refusals.target.reason,
  ],
  ['another scheme', `GET ftp://app.example/ HTTP/1.1\r\n${HOST}\r\n`, 400, Refusals.target.reason],
  ['* with GET', `GET * HTTP/1.1\r\n${HOST}\r\n`, 400, Refusals.target.reason],
  ['a fragment', `GET /a#frag HTTP/1.1\r\n${HOST}\r\n`, 400, Refusals.target.reason],
  ['TRACE', `TRACE / HTTP/1.1\r\n${HOST}\r\n`, 405, Refusals.trace.reason],
  ['HTTP/0.9', 'GET /\r\n\r\n', 505, Refusals.version.reason],
  ['HTTP/2.0 in HTTP/1 framing', `GET / HTTP/2.0\r\n${HOST}\r\n`, 505, Refusals.version.reason],
  [
    'two Host headers',
    `GET / HTTP/1.1\r\n${HOST}Host: other.example\r\n\r\n`,
    400,
    Refusals.hostRepeated.reason,
  ],
  ['an invalid Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, Refusals.hostInvalid.reason],
  [
    'a Host with userinfo',
    'GET / HTTP/1.1\r\nHost: user@app.example\r\n\r\n',
    400,
    Refusals.hostInvalid.reason,
  ],
  [
    'Transfer-Encoding gzip (Node dispatches it, then fails on the body)',
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip\r\n\r\n`,
    501,
    Refusals.transferEncoding.reason,
  ],
  [
    'Transfer-Encoding gzip, chunked',
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    501,
    Refusals.transferEncoding.reason,
  ],
  [
    'Transfer-Encoding identity',
    `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: identity\r\n\r\n`,
    501,
    Refusals.transferEncoding.reason,
  ],
  [
    'Transfer-Encoding in HTTP/1.0',
    `POST / HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
    Refusals.transferEncodingHttp10.reason,
  ],
  [
    'WebSocket upgrade',
    `GET /ws HTTP/1.1\r\n${HOST}Connection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    501,
    Refusals.websocket.reason,
  ],
  // Node's parser answers these itself; the guard never sees them.
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400, undefined],
  [
    'Content-Length with Transfer-Encoding',
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
    undefined,
  ],
  [
    'two differing Content-Length',
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx`,
    400,
    undefined,
  ],
  [
    'two equal Content-Length',
    `POST / HTTP/1.1\r\n${HOST}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`,
    400,
    undefined,
  ],
  ['Content-Length list', `POST / HTTP/1.1\r\n${HOST}Content-Length: 1, 1\r\n\r\nx`, 400, undefined],
  ['chunked not last', `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400, undefined],
  ['authority-form with GET', `GET app.example:80 HTTP/1.1\r\n${HOST}\r\n`, 400, undefined],
  ['a target without /', `GET foo HTTP/1.1\r\n${HOST}\r\n`, 400, undefined],
  ['obs-fold', `GET / HTTP/1.1\r\n${HOST}X-A: b\r\n c\r\n\r\n`, 400, undefined],
  ['bare LF', 'GET / HTTP/1.1\nHost: app.example\n\n', 400, undefined],
  ['space before the colon', `GET / HTTP/1.1\r\n${HOST}X-A : b\r\n\r\n`, 400, undefined],
];

test('over a raw socket: what Node refuses itself, and what the guard refuses', async () => {
  for (const [name, bytes, status, expectedBody] of CASES) {
    const before = guarded;
    const response = await exchange(bytes);
    assert.match(
      statusLine(response),
      new RegExp(`^HTTP/1\\.1 ${status} `),
      `${name}: ${JSON.stringify(response)}`,
    );
    if (expectedBody === undefined) {
      assert.equal(guarded, before, `${name}: answered by Node before the handler`);
    } else {
      assert.equal(body(response).split('HTTP/1.1 ')[0], expectedBody, name);
    }
  }
});

test('CONNECT: Node closes the connection without a listener; with one, the guard answers 405', async () => {
  const bytes = 'CONNECT app.example:443 HTTP/1.1\r\nHost: app.example:443\r\n\r\n';
  assert.equal(await exchange(bytes), '', 'no connect listener: closed without a response');
  const onConnect = (req: IncomingMessage, socket: Socket) => {
    answer(req, (status, reason) =>
      socket.end(`HTTP/1.1 ${status} Refused\r\nconnection: close\r\n\r\n${reason}`),
    );
  };
  server.server.on('connect', onConnect);
  try {
    const response = await exchange(bytes);
    assert.equal(statusLine(response), 'HTTP/1.1 405 Refused');
    assert.equal(body(response), Refusals.connect.reason);
  } finally {
    server.server.off('connect', onConnect);
  }
});

function fake(raw: string[], overrides: Partial<GuardedRequest> = {}): GuardedRequest {
  return {
    method: 'POST',
    url: '/',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    rawHeaders: raw,
    ...overrides,
  };
}

test('what Node already refuses is refused again for parsers configured otherwise', () => {
  const host = ['Host', 'app.example'];
  const cases: Array<
    [request: GuardedRequest, refusal: (typeof Refusals)[keyof typeof Refusals] | undefined]
  > = [
    [fake([...host, 'Content-Length', '1', 'Content-Length', '2']), Refusals.contentLength],
    [fake([...host, 'Content-Length', '1', 'Content-Length', '1']), undefined],
    [fake([...host, 'Content-Length', '+1']), Refusals.contentLength],
    [fake([...host, 'Content-Length', '']), Refusals.contentLength],
    [
      fake([...host, 'Content-Length', '3', 'Transfer-Encoding', 'chunked']),
      Refusals.contentLengthWithTransferEncoding,
    ],
    [
      fake([...host, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']),
      Refusals.transferEncoding,
    ],
    [fake([...host, 'Transfer-Encoding', ' chunked ']), undefined],
    [fake([]), Refusals.hostMissing],
    [fake(['Host', '']), undefined],
    [fake([], { httpVersionMinor: 0 }), undefined],
    [fake(host, { url: 'foo' }), Refusals.target],
    [fake(host, { url: 'http:///x' }), Refusals.target],
    [fake(host, { url: 'http://app.example:8080/' }), Refusals.authority],
    [fake(host, { method: 'CONNECT', url: 'app.example:443' }), Refusals.connect],
    [fake(host, { httpVersionMajor: 2, httpVersionMinor: 0 }), Refusals.version],
  ];
  for (const [request, refusal] of cases)
    assert.equal(refuseRequest(request), refusal, JSON.stringify(request));
});

test('refusals are fixed: the request never appears in a reason', () => {
  for (const refusal of Object.values(Refusals)) {
    assert.ok(Object.isFrozen(refusal));
    assert.match(refusal.reason, /^[\w /.-]{1,40}$/);
    assert.ok(refusal.status >= 400 && refusal.status < 600);
  }
});

test('originForm: the path and query of an absolute-form target', () => {
  const cases: Array<[url: string, path: string]> = [
    ['/a?b', '/a?b'],
    ['http://app.example/a/b?c=1', '/a/b?c=1'],
    ['HTTPS://app.example:8443', '/'],
    ['http://app.example?q=1', '/?q=1'],
    ['*', '*'],
  ];
  for (const [url, path] of cases) assert.equal(originForm(url), path, url);
});
