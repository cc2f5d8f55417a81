import { SeededRandom } from './seeded-random.ts';

/** Where fuzz cases go and what a well-formed request there looks like. */
export interface FuzzSurface {
  readonly name: string;
  readonly port: number;
  /** Paths of GET routes, e.g. `/healthz`, `/api/items/7`. */
  readonly paths: readonly string[];
  /** Paths that take a POST, with a JSON body or none. */
  readonly posts: readonly string[];
}

/** One seeded, reproducible malformed exchange. */
export interface FuzzCase {
  readonly seed: number;
  readonly index: number;
  /** What was done to the request, in order: the case's name in a failure message. */
  readonly mutations: readonly string[];
  /** The bytes, in the writes they are sent as. */
  readonly chunks: readonly Buffer[];
  /** The first request is HEAD: its response has no body. */
  readonly head: boolean;
  /** Half-close right after writing, rather than wait for an answer (when the surface allows it). */
  readonly endAfterWrite: boolean;
  /** A string planted in the request (query, headers, body) that no error body may echo raw. */
  readonly marker: string;
  /** The request carries a deadline header: a 504 for a spent budget is by design. */
  readonly deadline: boolean;
}

interface Draft {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: string;
  eol: string;
}

const HEX = '0123456789abcdef';
const TOKEN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const DEADLINE_HEADERS = ['x-readykit-timeout-ms', 'grpc-timeout', 'x-envoy-expected-rq-timeout-ms'];

/** A latin1 string of `n` random bytes: any byte, control characters and NUL included. */
function binary(rng: SeededRandom, n: number): string {
  return rng.bytes(n).toString('latin1');
}

function hex(rng: SeededRandom, n: number): string {
  return rng.string(n, HEX);
}

function validTraceparent(rng: SeededRandom): string {
  return `00-${hex(rng, 32)}-${hex(rng, 16)}-0${rng.int(2)}`;
}

/** Header values that are wrong for their header in some way a parser may trip on. */
const TRACING_VALUES: Record<string, (rng: SeededRandom, marker: string) => string> = {
  traceparent: (rng, marker) =>
    rng.pick([
      () => `ff-${hex(rng, 32)}-${hex(rng, 16)}-01`,
      () => `00-${'0'.repeat(32)}-${hex(rng, 16)}-01`,
      () => `00-${hex(rng, 32)}-${'0'.repeat(16)}-01`,
      () => validTraceparent(rng).toUpperCase(),
      () => `00-${hex(rng, 31)}-${hex(rng, 16)}-01`,
      () => `${validTraceparent(rng)}-extra`,
      () => `cc-${hex(rng, 32)}-${hex(rng, 16)}-01-${marker}`,
      () => `00-${hex(rng, 32)}-${hex(rng, 16)}-zz`,
      () => binary(rng, 55),
      () => 'x'.repeat(rng.between(100, 9000)),
      () => '',
      () => `00--${hex(rng, 16)}-01`,
      () => `${validTraceparent(rng)},${validTraceparent(rng)}`,
    ])(),
  tracestate: (rng, marker) =>
    rng.pick([
      () => Array.from({ length: rng.between(33, 200) }, (_, i) => `k${i}=v`).join(','),
      () => `A=1,${marker}=2`,
      () => '=,=,,,=',
      () => `k=${'v'.repeat(rng.between(257, 5000))}`,
      () => binary(rng, rng.between(1, 300)),
      () => `k=${marker}`,
    ])(),
  baggage: (rng, marker) =>
    rng.pick([
      () => `k=v;prop=${marker}`,
      () => '%zz=%zz,%=%',
      () => `k=${'v'.repeat(rng.between(4000, 9000))}`,
      () => binary(rng, rng.between(1, 200)),
      () => Array.from({ length: rng.between(65, 400) }, (_, i) => `k${i}=v`).join(','),
    ])(),
  b3: (rng, marker) =>
    rng.pick([
      () => rng.pick(['1', '0', 'd', '', '-', '--', 'garbage']),
      () => `${hex(rng, 32)}-${hex(rng, 16)}-1-${hex(rng, 16)}`,
      () => `${hex(rng, 32)}-${hex(rng, 16)}-x-${marker}`,
      () => `${hex(rng, 40)}-${hex(rng, 3)}`,
      () => binary(rng, rng.between(1, 100)),
    ])(),
  'x-b3-traceid': (rng, marker) => rng.pick([hex(rng, 33), 'zz', marker, binary(rng, 16), '0'.repeat(32)]),
  'x-b3-spanid': (rng, marker) => rng.pick([hex(rng, 17), '', marker, '0'.repeat(16)]),
  'x-b3-sampled': (rng) => rng.pick(['2', 'true', '', '-1', binary(rng, 2)]),
  'x-b3-flags': (rng) => rng.pick(['1', '2', 'x', '']),
  'x-request-id': (rng, marker) =>
    rng.pick([
      () => '',
      () => ' ',
      () => 'x'.repeat(rng.between(200, 9000)),
      () => binary(rng, rng.between(1, 64)),
      () => marker,
      () => `a\tb${marker}`,
      () => '\xe9t\xe9',
    ])(),
};

const DEADLINE_VALUES = [
  '0',
  '1',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '1.5',
  ' 100 ',
  '100, 200',
  '0x10',
  '',
  '1S',
  '1m',
  '1u',
  '1n',
  '99999999H',
  '123456789S',
  '1x',
  'S',
  '-1S',
  '1 S',
];

/** As a header's value: the name is a whole line of its own, written as is (no colon added). */
const RAW_LINE = '\u0000raw line\u0000';

type Mutation = (d: Draft, rng: SeededRandom, marker: string, surface: FuzzSurface) => string;

const REQUEST_LINE_MUTATIONS: Mutation[] = [
  (d, rng) => {
    d.method = rng.pick([
      'get',
      'G E T',
      'FOO',
      'X'.repeat(rng.between(20, 3000)),
      'PRI',
      '',
      'GET\x00',
      '\xc7ET',
    ]);
    return `method ${JSON.stringify(d.method.slice(0, 20))}`;
  },
  (d, rng) => {
    d.method = rng.pick(['CONNECT', 'TRACE', 'OPTIONS', 'DELETE', 'PATCH', 'PUT', 'HEAD']);
    if (d.method === 'CONNECT') d.target = rng.pick(['127.0.0.1:1', 'example.com:443', '/']);
    if (d.method === 'OPTIONS' && rng.chance(0.5)) d.target = '*';
    return `method ${d.method}`;
  },
  (d, rng) => {
    d.version = rng.pick([
      'HTTP/1.0',
      'HTTP/2.0',
      'HTTP/0.9',
      'HTTP/1.2',
      'HTTP/9.9',
      'HTTP/1',
      'http/1.1',
      '',
      'HTTP/1.1 extra',
      'HTTP/01.1',
      'HTTP/1.1\x00',
    ]);
    return `version ${JSON.stringify(d.version)}`;
  },
  (d, rng, marker, s) => {
    d.target = rng.pick([
      '',
      '*',
      'noslash',
      'http://other.example/',
      `http://127.0.0.1:${s.port}${d.target}`,
      `https://127.0.0.1:${s.port}${d.target}`,
      `http://user:pw@127.0.0.1:${s.port}/`,
      `//${d.target}`,
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%',
      '/%zz',
      `${d.target}/%E0%A4%A`,
      `${d.target}%00`,
      '/%ff%fe',
      `${d.target}#${marker}`,
      `${d.target} ${marker}`,
      `${d.target}\x7f`,
      `${d.target}\xe9\xff`,
      `/${'a/'.repeat(rng.between(100, 2000))}`,
    ]);
    return `target ${JSON.stringify(d.target.slice(0, 60))}`;
  },
  (d, rng, marker) => {
    const query = rng.pick([
      () => '%',
      () => '%zz&%=%',
      () => '&&&==&=&',
      () => `a[b][c][d][e]=${marker}`,
      () => `${'a['.repeat(rng.between(50, 500))}=1`,
      () => `x=${'y'.repeat(rng.between(1000, 9000))}`,
      () => Array.from({ length: rng.between(100, 2000) }, (_, i) => `p${i}=${i}`).join('&'),
      () => `verbose&verbose=${marker}&exclude=%ZZ`,
      () => `name[]=${marker}&name[]=2&name=3`,
      () => `__proto__[polluted]=1&constructor[prototype][polluted]=1`,
      () => `q=${encodeURIComponent(marker)}%`,
    ])();
    d.target = `${d.target.split('?')[0]}?${query}`;
    return `query ${JSON.stringify(query.slice(0, 60))}`;
  },
];

const TRACING_MUTATIONS: Mutation[] = [
  (d, rng, marker) => {
    const name = rng.pick(Object.keys(TRACING_VALUES));
    const value = TRACING_VALUES[name]!(rng, marker);
    setHeader(d, name, value, rng.chance(0.3));
    return `${name} ${JSON.stringify(value.slice(0, 40))}`;
  },
  (d, rng) => {
    const name = rng.pick(DEADLINE_HEADERS);
    const value = rng.pick(DEADLINE_VALUES);
    setHeader(d, name, value, rng.chance(0.2));
    return `${name} ${JSON.stringify(value)}`;
  },
];

const FIELD_MUTATIONS: Mutation[] = [
  (d, rng) => {
    const host = rng.pick([
      '',
      'a b',
      '[::1',
      'host:99999',
      'h'.repeat(300),
      '127.0.0.1\x00',
      'ex\xe9mple',
      '@',
      '127.0.0.1:80:80',
    ]);
    const mode = rng.pick(['replace', 'remove', 'duplicate']);
    if (mode === 'remove') d.headers = d.headers.filter(([n]) => n.toLowerCase() !== 'host');
    else setHeader(d, 'Host', host, mode === 'duplicate');
    return `host ${mode} ${JSON.stringify(host)}`;
  },
  (d, rng, marker) => {
    const size = rng.pick([4000, 8200, 16_000, 16_400, 20_000, 40_000]);
    d.headers.push([`X-Big-${rng.string(4, TOKEN)}`, `${marker}${'v'.repeat(size)}`]);
    return `header of ${size} bytes`;
  },
  (d, rng) => {
    const count = rng.pick([100, 500, 2000, 3000]);
    for (let i = 0; i < count; i++) d.headers.push([`X-H${i}`, `${i}`]);
    return `${count} headers`;
  },
  (d, rng, marker) => {
    const line = rng.pick([
      ['X-Space ', 'before colon'],
      ['NoColon', ''],
      ['Na me', 'v'],
      ['', 'empty name'],
      ['X-Nul', `a\x00b`],
      ['X-Del', 'a\x7fb'],
      ['X-Latin', '\xe9\xff\xfe'],
      ['X-Ctl', `a\x01\x02\x1b${marker}`],
      ['X-\xe9', 'non-token name'],
      ['X-Name'.repeat(rng.between(100, 2000)), 'long name'],
    ] as [string, string][]);
    d.headers.push(line[0] === 'NoColon' ? [`NoColon ${marker}`, RAW_LINE] : line);
    return `odd field ${JSON.stringify(line[0].slice(0, 20))}`;
  },
  (d, _rng, marker) => {
    d.headers.push(['X-Folded', `first\r\n continued ${marker}`]);
    return 'obs-fold';
  },
  (d, rng) => {
    d.eol = rng.pick(['\n', '\r', '\r\r\n', '\n\r']);
    return `line ending ${JSON.stringify(d.eol)}`;
  },
  (d, rng) => {
    const pair = rng.pick([
      ['Expect', '100-continue'],
      ['Expect', 'garbage'],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Upgrade', 'h2c'],
      ['Connection', 'close, te, x-foo, host'],
      ['Connection', 'keep-alive, Transfer-Encoding'],
      ['Accept', 'application/openmetrics-text; version=9.9.9'],
      ['Accept', `${'*/*;q=0.1,'.repeat(rng.between(100, 1000))}`],
      ['Accept-Encoding', 'gzip;q=nan, br;q=-1'],
      ['Authorization', 'Bearer \x00'],
      ['Authorization', `Bearer ${'x'.repeat(9000)}`],
      ['Cookie', `a=${'b'.repeat(5000)}; ; =;`],
      ['X-Forwarded-For', '1.2.3.4, not-an-ip, ::ffff:1.2.3.4, 999.999.999.999'],
      ['Forwarded', 'for="[::1"; proto=gopher; by=%zz'],
    ] as [string, string][]);
    d.headers.push(pair);
    return `${pair[0]}: ${JSON.stringify(pair[1].slice(0, 30))}`;
  },
];

const FRAMING_MUTATIONS: Mutation[] = [
  (d) => {
    d.headers.push(['Content-Length', String(d.body.length)], ['Transfer-Encoding', 'chunked']);
    return 'Content-Length with Transfer-Encoding';
  },
  (d, rng) => {
    d.headers.push(
      ['Content-Length', String(d.body.length)],
      ['Content-Length', String(d.body.length + rng.between(1, 9))],
    );
    return 'two Content-Lengths';
  },
  (d, rng) => {
    const value = rng.pick(['+5', '-1', '0x10', ' 5 ', '99999999999999999999', '1e3', '5,5', '']);
    d.headers.push(['Content-Length', value]);
    return `Content-Length ${JSON.stringify(value)}`;
  },
  (d, rng) => {
    const value = rng.pick([
      'gzip',
      'chunked, chunked',
      'identity',
      'chunked\x00',
      'gzip, chunked',
      'chunked, gzip',
      'CHUNKED',
      ' chunked',
    ]);
    d.headers.push(['Transfer-Encoding', value]);
    d.body = `5\r\nhello\r\n0\r\n\r\n`;
    return `Transfer-Encoding ${JSON.stringify(value)}`;
  },
  (d) => {
    d.version = 'HTTP/1.0';
    d.headers.push(['Transfer-Encoding', 'chunked']);
    d.body = '0\r\n\r\n';
    return 'Transfer-Encoding on HTTP/1.0';
  },
  (d, rng) => {
    d.headers.push(['Content-Length', String(d.body.length + rng.between(1, 500))]);
    return 'Content-Length beyond the body';
  },
  (d, rng, marker, s) => {
    const smuggled = `GET ${rng.pick(s.paths)}?${marker} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    d.headers.push(['Content-Length', '0']);
    d.body += smuggled;
    return 'bytes after a Content-Length body';
  },
  (d, rng) => {
    d.headers.push(['Transfer-Encoding', 'chunked']);
    d.body = rng.pick([
      'zz\r\nhello\r\n0\r\n\r\n',
      'ffffffffffffffffffff\r\nx\r\n0\r\n\r\n',
      '5\nhello\n0\n\n',
      '5\r\nhello\r\n',
      `5;${'x'.repeat(rng.between(100, 20_000))}\r\nhello\r\n0\r\n\r\n`,
      '5\r\nhello\r\n0\r\nX-Trailer: \x00\r\n\r\n',
      '3\r\nhello\r\n0\r\n\r\n',
      '-1\r\nx\r\n0\r\n\r\n',
      ' 5\r\nhello\r\n0\r\n\r\n',
      '0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n',
    ]);
    return `bad chunked ${JSON.stringify(d.body.slice(0, 30))}`;
  },
];

const BODY_MUTATIONS: Mutation[] = [
  (d, rng, marker, s) => {
    if (s.posts.length === 0) return 'no body route';
    d.method = 'POST';
    d.target = rng.pick(s.posts);
    const body = rng.pick([
      () => `{"items": [${marker}`,
      () => `${'['.repeat(rng.between(1000, 20_000))}`,
      () => `{"items":[{"sku":"${marker}","qty":1e309}]}`,
      () => `{"__proto__":{"polluted":1},"items":[]}`,
      () => `{"items":"${'x'.repeat(rng.between(100_000, 150_000))}"}`,
      () => binary(rng, rng.between(1, 2000)),
      () => '',
      () => 'null',
      () => `{"items":[{"sku":"a","qty":1}],"items":[${marker}]}`,
    ])();
    d.body = body;
    const type = rng.pick([
      'application/json',
      'application/json; charset=utf-7',
      'application/json; charset=\x00',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; boundary=;;;',
    ]);
    d.headers.push(['Content-Type', type], ['Content-Length', String(Buffer.byteLength(body, 'latin1'))]);
    if (rng.chance(0.2))
      d.headers.push(['Content-Encoding', rng.pick(['gzip', 'deflate', 'br', 'x-unknown'])]);
    return `POST ${d.target} ${type} ${JSON.stringify(body.slice(0, 30))}`;
  },
];

/** Byte-level damage to a serialized request. */
const BYTE_MUTATIONS: ((bytes: Buffer, rng: SeededRandom) => [Buffer, string])[] = [
  (bytes, rng) => {
    const at = rng.int(bytes.length);
    return [bytes.subarray(0, at), `truncated at ${at} of ${bytes.length}`];
  },
  (bytes, rng) => {
    const out = Buffer.from(bytes);
    const n = rng.between(1, 4);
    for (let i = 0; i < n; i++) out[rng.int(out.length)] = rng.uint32() & 0xff;
    return [out, `${n} random bytes overwritten`];
  },
  (bytes, rng) => {
    const at = rng.int(bytes.length);
    const noise = rng.bytes(rng.between(1, 64));
    return [
      Buffer.concat([bytes.subarray(0, at), noise, bytes.subarray(at)]),
      `${noise.length} random bytes inserted at ${at}`,
    ];
  },
  (_bytes, rng) => {
    const n = rng.between(1, 4000);
    return [rng.bytes(n), `${n} random bytes only`];
  },
  (_bytes, rng) => {
    const line = rng.pick([
      'GET / HTTP/1.1\r\n',
      'GET /',
      'POST /api/orders HTTP/1.1\r\nContent-Length: 40\r\n',
    ]);
    return [
      Buffer.concat([Buffer.from(line), rng.bytes(rng.between(1, 500))]),
      'request line then random bytes',
    ];
  },
];

function setHeader(d: Draft, name: string, value: string, duplicate: boolean): void {
  if (!duplicate) d.headers = d.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  d.headers.push([name, value]);
}

function serialize(d: Draft): Buffer {
  const head = [
    `${d.method} ${d.target} ${d.version}`.replace(/ $/, ''),
    ...d.headers.map(([n, v]) => (v === RAW_LINE ? n : `${n}: ${v}`)),
  ];
  return Buffer.from(`${head.join(d.eol)}${d.eol}${d.eol}${d.body}`, 'latin1');
}

/** Splits `bytes` into 1 to 5 writes at random points. */
function split(bytes: Buffer, rng: SeededRandom): Buffer[] {
  const cuts = Array.from({ length: rng.int(5) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return chunks.length > 0 ? chunks : [bytes];
}

/**
 * The `index`-th case of the run seeded with `seed`: a well-formed request to one of the
 * surface's routes (with valid trace headers half the time), then one to three mutations
 * among bad request lines, odd or huge header fields, broken or binary tracing and deadline
 * headers, Content-Length / Transfer-Encoding conflicts, bad chunked framing, garbage queries
 * and percent-encoding, malformed bodies; sometimes damaged at the byte level (truncated,
 * overwritten, random bytes, a request line then noise), sometimes followed by a second,
 * pipelined request; sent in one to five writes. Depends on nothing but its arguments.
 */
export function malformedRequest(seed: number, index: number, surface: FuzzSurface): FuzzCase {
  const rng = new SeededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const marker = `<rk${seed.toString(36)}x${index.toString(36)}>`;
  const path = rng.pick(surface.paths);
  const draft: Draft = {
    method: 'GET',
    target: path,
    version: 'HTTP/1.1',
    headers: [['Host', `127.0.0.1:${surface.port}`]],
    body: '',
    eol: '\r\n',
  };
  if (rng.chance(0.5)) draft.headers.push(['traceparent', validTraceparent(rng)]);
  if (rng.chance(0.3)) draft.headers.push(['X-Request-ID', rng.string(16, TOKEN)]);
  const mutations: string[] = [];
  // Tracing and deadline headers twice as often: most of them still parse as HTTP, so they reach
  // the kit's own code rather than stop at Node's parser.
  const families = [
    REQUEST_LINE_MUTATIONS,
    TRACING_MUTATIONS,
    TRACING_MUTATIONS,
    FIELD_MUTATIONS,
    FRAMING_MUTATIONS,
    BODY_MUTATIONS,
  ];
  const count = rng.between(1, 3);
  for (let i = 0; i < count; i++) {
    const mutate = rng.pick(rng.pick(families));
    mutations.push(mutate(draft, rng, marker, surface));
  }
  let bytes = serialize(draft);
  if (rng.chance(0.15)) {
    const [damaged, what] = rng.pick(BYTE_MUTATIONS)(bytes, rng);
    bytes = damaged;
    mutations.push(what);
  }
  if (rng.chance(0.1)) {
    const next = `GET ${rng.pick(surface.paths)} HTTP/1.1\r\nHost: 127.0.0.1:${surface.port}\r\n\r\n`;
    bytes = Buffer.concat([bytes, Buffer.from(next)]);
    mutations.push('then a pipelined GET');
  }
  return {
    seed,
    index,
    mutations,
    chunks: split(bytes, rng),
    head: draft.method === 'HEAD',
    endAfterWrite: rng.chance(0.6),
    marker,
    deadline: draft.headers.some(([n]) => DEADLINE_HEADERS.includes(n.toLowerCase())),
  };
}

/** A case's bytes as one readable line (JSON string escapes), cut at `max` characters. */
export function describeBytes(fuzzCase: FuzzCase, max = 600): string {
  const text = JSON.stringify(Buffer.concat(fuzzCase.chunks).toString('latin1'));
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
