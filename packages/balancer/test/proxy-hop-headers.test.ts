import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture } from './support/balancer-fixture.ts';
import { rawExchange } from './support/raw-exchange.ts';
import type { TestBackend } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = new RegExp(`^00-${TRACE_ID}-([0-9a-f]{16})-01$`);

/** The span id of a traceparent continuing {@link TRACE_ID}, or undefined. */
function spanOf(headers: IncomingHttpHeaders): string | undefined {
  return TRACEPARENT.exec(String(headers.traceparent))?.[1];
}

interface Echo {
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** The backend answers with what it received: its headers (raw too) and body. */
function echo(backend: TestBackend): void {
  backend.handler = (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ headers: req.headers, rawHeaders: req.rawHeaders, body }));
    });
  };
}

interface NodeResponse {
  status: number;
  rawHeaders: string[];
  body: string;
}

/** node:http sends headers as given, hop-by-hop ones included (undici refuses those). */
function nodeRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string[] } = {},
): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, body }));
    });
    req.on('error', reject);
    for (const part of options.body ?? []) req.write(part);
    req.end();
  });
}

async function echoed(url: string, options: Parameters<typeof nodeRequest>[1] = {}): Promise<Echo> {
  const res = await nodeRequest(url, options);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as Echo;
}

/** Header names in a raw list, lowercase. */
function namesOf(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

async function echoBalancer(options: Record<string, unknown> = {}) {
  const [a] = await fx.backends('a');
  echo(a!);
  return { a: a!, started: await fx.start([a!], options) };
}

describe('hop-by-hop headers through the proxy', () => {
  it('strips hop-by-hop request headers and re-frames a chunked body', async () => {
    const { started } = await echoBalancer();
    const seen = await echoed(`${started.proxy}/in`, {
      method: 'POST',
      headers: {
        connection: 'keep-alive, X-Hop, x-other-hop',
        'x-hop': 'client secret',
        'x-other-hop': 'also secret',
        'keep-alive': 'timeout=30, max=7',
        te: 'trailers',
        'proxy-connection': 'keep-alive',
        'transfer-encoding': 'chunked',
        'x-end-to-end': 'kept',
      },
      body: ['hello', ' ', 'world'],
    });
    const names = namesOf(seen.rawHeaders);
    for (const name of ['x-hop', 'x-other-hop', 'keep-alive', 'proxy-connection']) {
      assert.ok(!names.includes(name), `${name} reached the backend`);
    }
    assert.ok(
      !String(seen.headers.connection ?? '').includes('hop'),
      `connection: ${seen.headers.connection}`,
    );
    assert.equal(seen.headers.te, 'trailers', 'kept: gRPC needs it');
    assert.equal(seen.headers['x-end-to-end'], 'kept');
    assert.equal(seen.body, 'hello world');
    // undici frames the body itself: chunked, or a Content-Length when it has all of it already.
    const framing = names.filter((name) => name === 'transfer-encoding' || name === 'content-length');
    assert.equal(framing.length, 1, `framing: ${framing.join(', ')}`);
    assert.equal(names.filter((name) => name === 'host').length, 1);
  });

  it('drops TE other than trailers, and an h2c Upgrade with the headers it nominates', async () => {
    const { started } = await echoBalancer();
    const gzip = await echoed(`${started.proxy}/te`, { headers: { te: 'gzip, trailers' } });
    assert.equal(gzip.headers.te, undefined);
    const h2c = await echoed(`${started.proxy}/h2c`, {
      headers: {
        connection: 'Upgrade, HTTP2-Settings',
        upgrade: 'h2c',
        'http2-settings': 'AAMAAABkAAQAAP__',
      },
    });
    const names = namesOf(h2c.rawHeaders);
    assert.ok(!names.includes('upgrade'), 'no upgrade');
    assert.ok(!names.includes('http2-settings'), 'no http2-settings');
  });

  it('strips hop-by-hop response headers and lets Node frame the body', async () => {
    const [a] = await fx.backends('a');
    a!.handler = (_req, res) => {
      res.setHeader('connection', 'X-Private');
      res.setHeader('x-private', 'backend secret');
      res.setHeader('keep-alive', 'timeout=99');
      res.setHeader('proxy-connection', 'keep-alive');
      res.setHeader('upgrade', 'h2c');
      res.setHeader('te', 'trailers');
      res.setHeader('trailer', 'x-checksum');
      res.setHeader('x-kept', 'yes');
      res.write('part one, ');
      res.end('part two');
    };
    const started = await fx.start([a!]);
    const res = await nodeRequest(`${started.proxy}/out`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'part one, part two');
    const names = namesOf(res.rawHeaders);
    for (const name of ['x-private', 'proxy-connection', 'upgrade', 'te', 'trailer']) {
      assert.ok(!names.includes(name), `${name} reached the client`);
    }
    const value = (name: string) =>
      res.rawHeaders[res.rawHeaders.findIndex((x) => x.toLowerCase() === name) + 1];
    assert.notEqual(value('keep-alive'), 'timeout=99', "the proxy's own keep-alive, if any");
    assert.equal(value('x-kept'), 'yes');
    assert.equal(names.filter((name) => name === 'transfer-encoding').length, 1, 'one framing');
  });
});

describe('request framing through the proxy', () => {
  it('forwards a chunked body with extensions and odd chunk sizes as plain bytes', async () => {
    const { a, started } = await echoBalancer();
    const answer = await rawExchange(
      started.proxy,
      'POST /c HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '3;name=value\r\nhel\r\n8\r\nlo world\r\n0\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const seen = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.equal(seen.body, 'hello world');
    assert.equal(a.seen.length, 1);
  });
});

describe('forwarding headers through the proxy', () => {
  const forged = {
    host: 'shop.example:8443',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example',
    forwarded: 'for=6.6.6.6;proto=https',
  };
  const cases: Array<[string, string[], Record<string, string>]> = [
    [
      'replaces what an untrusted peer claims',
      [],
      {
        host: 'shop.example:8443',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'shop.example:8443',
        forwarded: 'for=127.0.0.1;proto=http;host="shop.example:8443"',
      },
    ],
    [
      'appends to what a trusted proxy says',
      ['127.0.0.1'],
      {
        host: 'shop.example:8443',
        'x-forwarded-for': '6.6.6.6, 127.0.0.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=6.6.6.6;proto=https, for=127.0.0.1;proto=http;host="shop.example:8443"',
      },
    ],
  ];
  for (const [name, trustedProxies, expected] of cases) {
    it(name, async () => {
      const { started } = await echoBalancer({ trustedProxies });
      const seen = await echoed(`${started.proxy}/f`, { headers: forged });
      for (const [header, value] of Object.entries(expected))
        assert.equal(seen.headers[header], value, header);
      for (const header of Object.keys(expected)) {
        assert.equal(namesOf(seen.rawHeaders).filter((x) => x === header).length, 1, `one ${header}`);
      }
    });
  }
});

describe('trace headers through the proxy', () => {
  it('passes B3 headers untouched and continues traceparent with a new span', async () => {
    const { started } = await echoBalancer();
    const b3 = {
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90',
    };
    const seen = await echoed(`${started.proxy}/t`, {
      headers: { ...b3, traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`, tracestate: 'vendor=1' },
    });
    for (const [header, value] of Object.entries(b3)) assert.equal(seen.headers[header], value, header);
    const span = spanOf(seen.headers);
    assert.ok(span !== undefined && span !== PARENT_SPAN, `traceparent ${seen.headers.traceparent}`);
    assert.equal(seen.headers.tracestate, 'vendor=1');
  });

  it('gives each retry attempt a new span id of the same trace', async () => {
    const [a, b] = await fx.backends('a', 'b');
    const attempts: Array<{ backend: string; headers: IncomingHttpHeaders }> = [];
    a!.handler = (req, res) => {
      attempts.push({ backend: 'a', headers: req.headers });
      res.statusCode = 503;
      res.end();
    };
    b!.handler = (req, res) => {
      attempts.push({ backend: 'b', headers: req.headers });
      res.end('b');
    };
    const started = await fx.start([a!, b!], {
      algorithm: 'round-robin',
      outlier: { consecutiveFailures: 1000 },
    });
    // Round robin alternates: one of two requests tries a first.
    for (let i = 0; i < 2; i++) {
      const res = await fx.request(`${started.proxy}/r`, {
        headers: {
          traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
          'x-request-id': `req-${i}`,
          'x-readykit-timeout-ms': '5000',
        },
      });
      assert.equal(res.body, 'b');
    }
    const failed = attempts.find((x) => x.backend === 'a')!;
    const retry = attempts.find(
      (x) => x.backend === 'b' && x.headers['x-request-id'] === failed.headers['x-request-id'],
    );
    assert.ok(retry !== undefined, 'the retry went to b with the same request id');
    const first = spanOf(failed.headers);
    const second = spanOf(retry.headers);
    assert.ok(first !== undefined && second !== undefined, 'both continue the trace');
    assert.notEqual(first, PARENT_SPAN);
    assert.notEqual(second, PARENT_SPAN);
    assert.notEqual(first, second, 'a new span per attempt');
    const budgets = [failed, retry].map((x) => Number(x.headers['x-readykit-timeout-ms']));
    assert.ok(budgets[1]! <= budgets[0]! && budgets[0]! < 5000, `budgets ${budgets.join(', ')}`);
  });
});
