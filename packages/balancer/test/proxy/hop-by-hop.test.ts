import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { request } from 'undici';
import { serve } from '../../../../test/support/loopback-server.ts';
import {
  forwardableRequestHeaders,
  forwardableResponseHeaders,
  HeaderNameSet,
  HOP_BY_HOP_HEADERS,
} from '../../src/proxy/hop-by-hop.ts';

function requestHeaders(raw: string[], rewritten?: HeaderNameSet): string[] {
  const out: string[] = [];
  forwardableRequestHeaders(raw, out, rewritten);
  return out;
}

function responseHeaders(raw: Array<string | Buffer>, rewritten?: HeaderNameSet): string[] {
  const out: string[] = [];
  forwardableResponseHeaders(raw, out, rewritten);
  return out;
}

test('request: hop-by-hop headers and Expect are dropped; the rest keeps its order and case', () => {
  const cases: Array<[raw: string[], forwarded: string[]]> = [
    [
      ['Host', 'a.example', 'Connection', 'keep-alive', 'Accept', '*/*', 'Keep-Alive', 'timeout=5'],
      ['Host', 'a.example', 'Accept', '*/*'],
    ],
    [
      ['Transfer-Encoding', 'chunked', 'X-Trace', '1', 'Upgrade', 'h2c', 'Proxy-Connection', 'keep-alive'],
      ['X-Trace', '1'],
    ],
    [
      ['Trailer', 'Expires', 'Expect', '100-continue', 'content-type', 'text/plain'],
      ['content-type', 'text/plain'],
    ],
    [
      ['TE', 'trailers', 'TE', 'gzip', 'te', ' Trailers '],
      ['TE', 'trailers', 'te', ' Trailers '],
    ],
    [
      ['Proxy-Authorization', 'Basic eA==', 'Proxy-Authenticate', 'Basic'],
      ['Proxy-Authorization', 'Basic eA==', 'Proxy-Authenticate', 'Basic'],
    ],
    [
      ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
      ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
    ],
    [[], []],
  ];
  for (const [raw, forwarded] of cases) assert.deepEqual(requestHeaders(raw), forwarded, JSON.stringify(raw));
});

test('fields the Connection header names are dropped, wherever they are; Host and TE are not', () => {
  const cases: Array<[raw: string[], request: string[], response: string[]]> = [
    [
      ['X-Secret', 's', 'Connection', 'x-secret', 'X-Other', 'o'],
      ['X-Other', 'o'],
      ['X-Other', 'o'],
    ],
    [
      ['Connection', 'X-A, ,x-b\t', 'x-a', '1', 'X-B', '2', 'X-C', '3'],
      ['X-C', '3'],
      ['X-C', '3'],
    ],
    [
      ['Connection', 'close', 'Connection', 'X-A', 'X-A', '1', 'X-AB', '2'],
      ['X-AB', '2'],
      ['X-AB', '2'],
    ],
    [
      ['Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAM', 'Accept', 'x'],
      ['Accept', 'x'],
      ['Accept', 'x'],
    ],
    [
      ['Connection', 'Host, TE, Close, Keep-Alive', 'Host', 'a', 'TE', 'trailers'],
      ['Host', 'a', 'TE', 'trailers'],
      ['Host', 'a'],
    ],
  ];
  for (const [raw, request, response] of cases) {
    assert.deepEqual(requestHeaders(raw), request, JSON.stringify(raw));
    assert.deepEqual(responseHeaders(raw), response, JSON.stringify(raw));
  }
});

test('rewritten names are dropped in any case, long names included; only what this call appended is touched', () => {
  const rewritten = new HeaderNameSet([
    'X-Forwarded-For',
    'traceparent',
    'x-a-header-name-longer-than-31-chars',
  ]);
  assert.equal(rewritten.has('X-FORWARDED-FOR'), true);
  assert.equal(rewritten.has('x-forwarded-fox'), false);
  const out = ['X-Before', 'kept', 'X-Nominated', 'kept too: appended before this call'];
  forwardableRequestHeaders(
    [
      'x-forwarded-for',
      '1.2.3.4',
      'TraceParent',
      '00-x',
      'X-A-Header-Name-Longer-Than-31-Chars',
      'v',
      'X-Nominated',
      'dropped',
      'Connection',
      'X-Nominated',
      'Accept',
      '*/*',
    ],
    out,
    rewritten,
  );
  assert.deepEqual(out, [
    'X-Before',
    'kept',
    'X-Nominated',
    'kept too: appended before this call',
    'Accept',
    '*/*',
  ]);
});

test('response: the same filter, TE and Upgrade dropped, Expect kept; Buffers relayed byte for byte', () => {
  const raw = [
    Buffer.from('Content-Type'),
    Buffer.from('text/plain'),
    Buffer.from('Transfer-Encoding'),
    Buffer.from('chunked'),
    Buffer.from('X-Name'),
    Buffer.from([0x63, 0x61, 0x66, 0xe9]),
    'TE',
    'trailers',
    'Upgrade',
    'h2c',
    'Expect',
    'odd but end-to-end',
  ];
  const out = responseHeaders(raw);
  assert.deepEqual(out, [
    'Content-Type',
    'text/plain',
    'X-Name',
    'caf\u00e9',
    'Expect',
    'odd but end-to-end',
  ]);
  assert.deepEqual(Buffer.from(out[3]!, 'latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
});

/** The filter as the RFC words it, slowly: the model the fast one must match. */
function reference(raw: string[], rewritten: readonly string[]): string[] {
  const nominated = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) nominated.add(token.trim().toLowerCase());
  }
  for (const kept of ['host', 'te', 'close', 'keep-alive']) nominated.delete(kept);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'te' && raw[i + 1]!.trim().toLowerCase() === 'trailers') {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    if ([...HOP_BY_HOP_HEADERS, 'expect'].includes(lower) || nominated.has(lower)) continue;
    if (rewritten.includes(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

test('property: matches the plain reading of RFC 9110 on random header lists', () => {
  const names = [
    'Host',
    'connection',
    'Connection',
    'Keep-Alive',
    'TE',
    'Expect',
    'Upgrade',
    'Transfer-Encoding',
    'Trailer',
    'Proxy-Connection',
    'X-A',
    'x-b',
    'Accept',
    'x-forwarded-for',
    'Traceparent',
  ];
  const values = [
    'keep-alive',
    'close',
    'X-A',
    'x-b, Accept',
    'TE, X-A',
    ' trailers ',
    'trailers',
    'gzip',
    'Host',
    '',
    'v',
  ];
  const rewritten = ['x-forwarded-for', 'traceparent'];
  const set = new HeaderNameSet(rewritten);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...values)), { maxLength: 12 }),
      (pairs) => {
        const raw = pairs.flat();
        assert.deepEqual(requestHeaders(raw, set), reference(raw, rewritten));
      },
    ),
    { seed: 7, numRuns: 3000 },
  );
});

test('undici accepts the filtered headers, and the backend sees only the end-to-end ones', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const backend = await serve((req, res) => {
    seen.push(req.headers);
    req.resume().on('end', () => res.end('ok'));
  });
  const proxy = await serve((req, res) => {
    const headers: string[] = [];
    forwardableRequestHeaders(req.rawHeaders, headers);
    request(`${backend.url}${req.url}`, { method: req.method as 'POST', headers, body: req }).then(
      async (answer) => {
        res.writeHead(answer.statusCode, { connection: 'close' });
        res.end(await answer.body.text());
      },
      (error: Error) => {
        res.writeHead(500, { connection: 'close' });
        res.end(error.message);
      },
    );
  });
  try {
    const { port } = new URL(proxy.url);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      // Written, not ended: Node drops a request whose client half-closes before the answer.
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: app.example\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n' +
          'X-Hop: secret\r\nTE: trailers\r\nExpect: 100-continue\r\nUpgrade: h2c\r\nX-End: 1\r\n' +
          'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
    });
    assert.match(
      response,
      /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*\r\nok\r\n/,
      response,
    );
    assert.equal(seen.length, 1);
    const got = seen[0]!;
    assert.equal(got.host, 'app.example');
    assert.equal(got['x-end'], '1');
    assert.equal(got.te, 'trailers');
    for (const name of ['x-hop', 'keep-alive', 'expect', 'upgrade']) assert.equal(got[name], undefined, name);
    // undici frames the body itself.
    assert.ok(got['transfer-encoding'] === 'chunked' || got['content-length'] === '3');
  } finally {
    await proxy.close();
    await backend.close();
  }
});
