import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serve } from '../../../../test/support/loopback-server.ts';
import { BalancerErrorCodes } from '../../src/errors.ts';
import {
  FORWARDED_HEADERS,
  ForwardedHeaders,
  type ForwardedRequest,
} from '../../src/proxy/forwarded-headers.ts';

const SPOOFED = [
  'X-Forwarded-For',
  '6.6.6.6',
  'X-Forwarded-Proto',
  'https',
  'X-Forwarded-Host',
  'admin.internal',
  'Forwarded',
  'for=6.6.6.6;proto=https',
];

function written(
  trustedProxies: string[],
  peer: string | undefined,
  raw: string[],
  encrypted = false,
): Record<string, string> {
  const req: ForwardedRequest = { rawHeaders: raw, socket: { remoteAddress: peer, encrypted } };
  const out: string[] = [];
  new ForwardedHeaders({ trustedProxies }).write(req, out);
  const headers: Record<string, string> = {};
  for (let i = 0; i < out.length; i += 2) {
    assert.ok(FORWARDED_HEADERS.includes(out[i]!), `${out[i]} is announced in FORWARDED_HEADERS`);
    assert.equal(headers[out[i]!], undefined, `${out[i]} written once`);
    headers[out[i]!] = out[i + 1]!;
  }
  return headers;
}

type Case = [
  name: string,
  trusted: string[],
  peer: string | undefined,
  raw: string[],
  expected: { xff?: string; proto: string; host?: string; forwarded: string },
  encrypted?: boolean,
];

const HOST = ['Host', 'app.example'];

const CASES: Case[] = [
  [
    'untrusted by default: spoofed values are dropped',
    [],
    '203.0.113.7',
    [...HOST, ...SPOOFED],
    {
      xff: '203.0.113.7',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=203.0.113.7;proto=http;host=app.example',
    },
  ],
  [
    'TLS listener',
    [],
    '203.0.113.7',
    HOST,
    {
      xff: '203.0.113.7',
      proto: 'https',
      host: 'app.example',
      forwarded: 'for=203.0.113.7;proto=https;host=app.example',
    },
    true,
  ],
  [
    'a peer outside the trusted range is not trusted',
    ['10.0.0.0/8'],
    '11.0.0.1',
    [...HOST, ...SPOOFED],
    {
      xff: '11.0.0.1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=11.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'trusted CIDR: incoming values kept, the peer and this hop appended',
    ['10.0.0.0/8'],
    '10.1.2.3',
    [...HOST, ...SPOOFED],
    {
      xff: '6.6.6.6, 10.1.2.3',
      proto: 'https',
      host: 'admin.internal',
      forwarded: 'for=6.6.6.6;proto=https, for=10.1.2.3;proto=http;host=app.example',
    },
  ],
  [
    'trusted: repeated X-Forwarded-For and Forwarded lines are joined in order',
    ['192.0.2.10'],
    '192.0.2.10',
    [
      'x-forwarded-for',
      '1.1.1.1',
      'X-FORWARDED-FOR',
      '2.2.2.2, 3.3.3.3',
      'forwarded',
      'for=1.1.1.1',
      ...HOST,
    ],
    {
      xff: '1.1.1.1, 2.2.2.2, 3.3.3.3, 192.0.2.10',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=1.1.1.1, for=192.0.2.10;proto=http;host=app.example',
    },
  ],
  [
    'trusted but nothing incoming: this hop only',
    ['10.0.0.0/8'],
    '10.0.0.1',
    HOST,
    {
      xff: '10.0.0.1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=10.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'trusted but malformed proto and host: this hop decides',
    ['10.0.0.0/8'],
    '10.0.0.1',
    [...HOST, 'X-Forwarded-Proto', 'https, http', 'X-Forwarded-Host', 'evil.example, app.example'],
    {
      xff: '10.0.0.1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=10.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'trusted proto in another case, trusted host with spaces around it',
    ['10.0.0.0/8'],
    '10.0.0.1',
    [...HOST, 'X-Forwarded-Proto', ' HTTPS ', 'X-Forwarded-Host', ' orig.example:8443 '],
    {
      xff: '10.0.0.1',
      proto: 'https',
      host: 'orig.example:8443',
      forwarded: 'for=10.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'IPv4-mapped peer matches an IPv4 range and is written as IPv4',
    ['127.0.0.0/8'],
    '::ffff:127.0.0.1',
    [...HOST, 'X-Forwarded-For', '198.51.100.1'],
    {
      xff: '198.51.100.1, 127.0.0.1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=127.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'IPv4-mapped untrusted peer',
    [],
    '::ffff:127.0.0.1',
    [...HOST, ...SPOOFED],
    {
      xff: '127.0.0.1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for=127.0.0.1;proto=http;host=app.example',
    },
  ],
  [
    'IPv6 peer: bare in X-Forwarded-For, quoted and bracketed in Forwarded',
    [],
    '2001:db8::1',
    HOST,
    {
      xff: '2001:db8::1',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for="[2001:db8::1]";proto=http;host=app.example',
    },
  ],
  [
    'trusted IPv6 range',
    ['fd00::/8', '10.0.0.0/8'],
    'fd12:3456::5',
    [...HOST, 'X-Forwarded-For', '2001:db8::7'],
    {
      xff: '2001:db8::7, fd12:3456::5',
      proto: 'http',
      host: 'app.example',
      forwarded: 'for="[fd12:3456::5]";proto=http;host=app.example',
    },
  ],
  [
    'a host with a port or an IPv6 literal is quoted in Forwarded',
    [],
    '192.0.2.1',
    ['Host', '[::1]:8080'],
    {
      xff: '192.0.2.1',
      proto: 'http',
      host: '[::1]:8080',
      forwarded: 'for=192.0.2.1;proto=http;host="[::1]:8080"',
    },
  ],
  [
    'no peer address (socket gone)',
    [],
    undefined,
    [...HOST, ...SPOOFED],
    { proto: 'http', host: 'app.example', forwarded: 'for=unknown;proto=http;host=app.example' },
  ],
];

// Values a client could use to break out of the headers built from Host.
const MALICIOUS_HOSTS = [
  'a.example, evil.example',
  'a.example;for=1.2.3.4',
  'a.example"',
  'user@a.example',
  'a.example:99999',
  'a.example:',
  '[::1',
  '[not-ipv6]',
  'a b',
  '',
  'a.example/path',
];

test('headers written per peer, trust and incoming values', () => {
  for (const [name, trusted, peer, raw, expected, encrypted] of CASES) {
    const headers = written(trusted, peer, raw, encrypted);
    assert.deepEqual(
      headers,
      {
        ...(expected.xff === undefined ? {} : { 'x-forwarded-for': expected.xff }),
        'x-forwarded-proto': expected.proto,
        ...(expected.host === undefined ? {} : { 'x-forwarded-host': expected.host }),
        forwarded: expected.forwarded,
      },
      name,
    );
  }
});

test('an invalid or repeated Host is never forwarded', () => {
  for (const host of MALICIOUS_HOSTS) {
    const headers = written([], '192.0.2.1', ['Host', host]);
    assert.equal(headers['x-forwarded-host'], undefined, host);
    assert.equal(headers.forwarded, 'for=192.0.2.1;proto=http', host);
  }
  const twice = written([], '192.0.2.1', ['Host', 'a.example', 'host', 'b.example']);
  assert.equal(twice['x-forwarded-host'], undefined);
  // From a trusted peer, an invalid incoming X-Forwarded-Host falls back to this hop's Host.
  for (const host of MALICIOUS_HOSTS) {
    const headers = written(['10.0.0.1'], '10.0.0.1', ['Host', 'app.example', 'X-Forwarded-Host', host]);
    assert.equal(headers['x-forwarded-host'], 'app.example', host);
  }
});

test('isTrusted: addresses, ranges, mapped peers; nobody by default', () => {
  const forwarded = new ForwardedHeaders({ trustedProxies: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'] });
  const cases: Array<[peer: string | undefined, trusted: boolean]> = [
    ['10.255.255.255', true],
    ['11.0.0.0', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['::ffff:10.0.0.1', true],
    ['::ffff:192.0.2.7', true],
    ['2001:db8:1::1', true],
    ['2001:db9::1', false],
    [undefined, false],
  ];
  for (const [peer, trusted] of cases) assert.equal(forwarded.isTrusted(peer), trusted, String(peer));
  assert.equal(new ForwardedHeaders().isTrusted('127.0.0.1'), false);
  assert.deepEqual(new ForwardedHeaders().trustedProxies, []);
});

test('trustedProxies is validated at construction; the message names the entry', () => {
  const cases: Array<[value: unknown, key: string]> = [
    ['10.0.0.0/8', 'trustedProxies'],
    [[42], 'trustedProxies[0]'],
    [['10.0.0.1', 'localhost'], 'trustedProxies[1]'],
    [['10.0.0.0/33'], 'trustedProxies[0]'],
    [['fd00::/129'], 'trustedProxies[0]'],
    [['10.0.0.0/'], 'trustedProxies[0]'],
    [['10.0.0.0/8/8'], 'trustedProxies[0]'],
    [['10.0.0.0/-1'], 'trustedProxies[0]'],
    [['10.0.0.0/ 8'], 'trustedProxies[0]'],
    [['300.0.0.1'], 'trustedProxies[0]'],
  ];
  for (const [value, key] of cases) {
    assert.throws(
      () => new ForwardedHeaders({ trustedProxies: value as string[] }),
      (error: Error & { code?: string }) =>
        error.code === BalancerErrorCodes.INVALID_CONFIG && error.message.startsWith(`${key} must be`),
      JSON.stringify(value),
    );
  }
  assert.doesNotThrow(() => new ForwardedHeaders({ trustedProxies: ['0.0.0.0/0', '::/0', '10.0.0.1/32'] }));
});

test('with a real socket: the peer is 127.0.0.1 and the request object is enough', async () => {
  const seen: string[][] = [];
  const forwarded = new ForwardedHeaders({ trustedProxies: ['127.0.0.1'] });
  const server = await serve((req, res) => {
    const out: string[] = [];
    forwarded.write(req, out);
    seen.push(out);
    res.end();
  });
  try {
    const response = await fetch(server.url, { headers: { 'x-forwarded-for': '198.51.100.9' } });
    await response.arrayBuffer();
    const port = new URL(server.url).port;
    assert.deepEqual(seen, [
      [
        'x-forwarded-for',
        '198.51.100.9, 127.0.0.1',
        'x-forwarded-proto',
        'http',
        'x-forwarded-host',
        `127.0.0.1:${port}`,
        'forwarded',
        `for=127.0.0.1;proto=http;host="127.0.0.1:${port}"`,
      ],
    ]);
  } finally {
    await server.close();
  }
});
