import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { type BalancerProcess, startBalancer } from '../support/balancer-process.ts';
import {
  describeBytes,
  type FuzzCase,
  type FuzzSurface,
  malformedRequest,
} from '../support/malformed-http-requests.ts';
import { exchangeRaw, type RawExchange } from '../support/raw-http-exchange.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';
import {
  headerOf,
  parseResponses,
  ResponseViolation,
  type WireResponse,
} from '../support/strict-response-parser.ts';

// Seeded fuzzing of every HTTP surface of the kit with malformed requests over raw TCP: the
// example service (@readykit/express: probes, metrics, tracing and deadline headers, its API),
// the balancer's proxy listener, and its admin listener (backends API, drain, events, metrics).
// The same seed gives the same cases: FUZZ_SEED=<seed> replays a run, FUZZ_CASE=<index> one case
// of it; FUZZ_CASES sets the cases per surface.
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const ONLY = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
const CONCURRENCY = 16;
/** Waiting this long for an answer before half-closing, when a case keeps its side open. */
const QUIET_MS = 250;
/** After the client has sent everything and half-closed, the server must answer or close within this. */
const HANG_MS = 5000;
/** A liveness check (a well-formed request must still get its 200) every this many cases. */
const CHECK_EVERY = 250;

interface Target extends FuzzSurface {
  readonly process: ChildProcess;
  /**
   * Whether cases may half-close right after sending. The balancer takes a client's FIN as an
   * abort (as nginx does) and drops the request unanswered, so there every case waits for its
   * answer first: a case without one would prove nothing about what the proxy answers.
   */
  readonly halfCloseEarly: boolean;
  /** A well-formed GET that answers 200 while the process is healthy. */
  readonly liveness: string;
  /** A 502, 503 or 504 the surface gives by design for this case; any other is a failure. */
  designed(response: WireResponse, fuzzCase: FuzzCase): boolean;
}

const SERVICE_PATHS = [
  '/healthz',
  '/readyz',
  '/readyz?verbose',
  '/metrics',
  '/api/items/42',
  '/api/users/7/orders',
  '/',
];

test('fuzz: malformed requests never crash, hang, 500 or garble the kit', {
  timeout: 5 * 60_000,
}, async (t) => {
  const services: ServiceProcess[] = [];
  let balancer: BalancerProcess | undefined;
  // Every process is gone before the test ends: killed, and its exit seen.
  t.after(async () => {
    balancer?.kill('SIGKILL');
    for (const s of services) s.kill('SIGKILL');
    await Promise.all([balancer?.exited, ...services.map((s) => s.exited)]);
  });
  services.push(await startService({ WARMUP_MS: '0' }), await startService({ WARMUP_MS: '0' }));
  balancer = await startBalancer([
    '--listen=127.0.0.1:0',
    '--admin=127.0.0.1:0',
    ...services.flatMap((s) => ['--backend', s.url]),
    '--slow-start-window=0',
    '--health-interval=500',
  ]);
  const bal = balancer;
  await bal.waitFor('both backends ready', (r) => r.backends.every((b) => b.state === 'ready'));
  const backendNames = services.map((s) => new URL(s.url).host);
  const service = services[0]!;
  // The example service answers 503 on /readyz while not ready and on /api/items/…/stock without
  // an inventory service, and 504 when a request's own deadline runs out: all by design.
  const serviceDesigned = (response: WireResponse, fuzzCase: FuzzCase): boolean =>
    (response.status === 503 && /no inventory service|"status"/.test(response.body.toString())) ||
    (response.status === 504 && fuzzCase.deadline);
  const targets: Target[] = [
    {
      name: 'example service',
      port: Number(new URL(service.url).port),
      paths: SERVICE_PATHS,
      posts: ['/api/orders'],
      halfCloseEarly: true,
      process: service.child,
      liveness: `${service.url}/healthz`,
      designed: serviceDesigned,
    },
    {
      name: 'balancer proxy',
      port: Number(new URL(bal.url).port),
      paths: SERVICE_PATHS,
      posts: ['/api/orders'],
      halfCloseEarly: false,
      process: bal.child,
      liveness: `${bal.url}/api/items/1`,
      // Its own 504 for a spent deadline, or a backend's designed answer passed on; never
      // "no backend" or "backend failed": both backends stay healthy throughout.
      designed: (response, fuzzCase) =>
        (response.status === 504 &&
          headerOf(response, 'x-readykit-error') === 'RK_ERR_DEADLINE_EXCEEDED' &&
          fuzzCase.deadline) ||
        (headerOf(response, 'x-readykit-error') === undefined && serviceDesigned(response, fuzzCase)),
    },
    {
      name: 'balancer admin',
      port: Number(new URL(bal.admin).port),
      paths: ['/api/backends', '/api/events', '/metrics', '/healthz', '/readyz', '/', '/dashboard'],
      posts: [
        ...backendNames.flatMap((n) => [
          `/api/backends/${encodeURIComponent(n)}/drain`,
          `/api/backends/${encodeURIComponent(n)}/undrain`,
        ]),
        '/api/backends/nowhere%3A1/drain',
        `/api/backends/${encodeURIComponent(`http://${backendNames[0]}`)}/drain`,
      ],
      halfCloseEarly: true,
      process: bal.child,
      liveness: `${bal.admin}/healthz`,
      // /readyz says 503 once every backend is drained (fuzzed drains do that), and /api/events
      // caps its open streams with a 503 + Retry-After.
      designed: (response) => response.status === 503,
    },
  ];

  console.log(
    `fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${ONLY === undefined ? `${CASES} cases per surface` : `case ${ONLY} only`}`,
  );
  const failures: string[] = [];
  for (const target of targets) {
    const started = performance.now();
    const statuses = new Map<number, number>();
    let silent = 0;
    const lingering: number[] = [];
    const indexes = ONLY === undefined ? Array.from({ length: CASES }, (_, i) => i) : [ONLY];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indexes.length && failures.length < 20) {
        const index = indexes[next++]!;
        const fuzzCase = malformedRequest(SEED, index, target);
        const exchange = await exchangeRaw({
          port: target.port,
          chunks: fuzzCase.chunks,
          endAfterWrite: target.halfCloseEarly && fuzzCase.endAfterWrite,
          quietMs: QUIET_MS,
          hangMs: HANG_MS,
          progress: (received) => progressOf(received, fuzzCase),
        });
        const verdict = judge(fuzzCase, exchange, target.designed);
        if (typeof verdict === 'string') {
          failures.push(
            `${target.name}, FUZZ_SEED=${SEED} FUZZ_CASE=${index}: ${verdict}\n    mutations: ${fuzzCase.mutations.join('; ')}` +
              `\n    sent: ${describeBytes(fuzzCase, 300)}\n    received: ${JSON.stringify(exchange.received.subarray(0, 300).toString('latin1'))}`,
          );
        } else if (verdict.length === 0) {
          silent++;
        } else {
          if (exchange.hung) lingering.push(index);
          for (const r of verdict) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
        if (index % CHECK_EVERY === CHECK_EVERY - 1)
          await checkAlive(target, `after case ${index}`, failures);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await checkAlive(target, 'at the end', failures);
    const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    console.log(
      `  ${target.name}: ${indexes.length} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `responses ${summary.join(' ')}; ${silent} closed without a response` +
        (lingering.length === 0
          ? ''
          : `; ${lingering.length} answered but left open ${HANG_MS} ms after the client's FIN (FUZZ_CASE=${lingering.join(', ')})`),
    );
  }
  for (const s of [bal.child, ...services.map((x) => x.child)]) {
    assert.equal(s.exitCode, null, `a process exited: ${s.spawnargs.join(' ')}`);
  }
  if (failures.length > 0) assert.fail(`${failures.length} failures (the first 20):\n${failures.join('\n')}`);
});

/** Finish once a whole final response is in; drop an event stream once its head is in. */
function progressOf(received: Buffer, fuzzCase: FuzzCase): 'wait' | 'finish' | 'drop' {
  try {
    const responses = parseResponses(received, { head: fuzzCase.head, closed: false, cutShort: true });
    if (responses.some((r) => r.streaming)) return 'drop';
    return responses.some((r) => r.status >= 200) ? 'finish' : 'wait';
  } catch {
    return 'finish'; // judged once the exchange is over
  }
}

const STACK_TRACE = /\n\s*at .+:\d+:\d+|node:internal|file:\/\/\/|\/node_modules\//;

/** The responses of a passing case, or why it fails. */
function judge(
  fuzzCase: FuzzCase,
  exchange: RawExchange,
  designed: Target['designed'],
): WireResponse[] | string {
  let responses: WireResponse[];
  try {
    responses = parseResponses(exchange.received, {
      head: fuzzCase.head,
      closed: exchange.closed,
      // A connection cut by a reset, or by us after a hang, may end mid-response.
      cutShort: exchange.reset || exchange.hung,
    });
  } catch (error) {
    if (error instanceof ResponseViolation) return `malformed response: ${error.message}`;
    throw error;
  }
  // Answered, then left open after the client's FIN: not a hang (the answer came), counted apart.
  if (exchange.hung && !responses.some((r) => r.status >= 200)) {
    return `no response and no close within ${HANG_MS} ms of the client finishing (${exchange.received.length} bytes received)`;
  }
  for (const response of responses) {
    const body = response.body.toString('latin1');
    if (response.status === 500) return `500: ${JSON.stringify(body.slice(0, 200))}`;
    if (response.status >= 502 && response.status <= 504 && !designed(response, fuzzCase)) {
      return `${response.status} (${headerOf(response, 'x-readykit-error') ?? 'no error code'}): ${JSON.stringify(body.slice(0, 200))}`;
    }
    if (STACK_TRACE.test(body))
      return `${response.status} body shows a stack trace or path: ${JSON.stringify(body.slice(0, 300))}`;
    if (response.status >= 400 && body.includes(fuzzCase.marker)) {
      return `${response.status} body echoes the request's raw input ${fuzzCase.marker}: ${JSON.stringify(body.slice(0, 300))}`;
    }
  }
  return responses;
}

async function checkAlive(target: Target, when: string, failures: string[]): Promise<void> {
  if (target.process.exitCode !== null || target.process.signalCode !== null) {
    failures.push(
      `${target.name}: the process exited (${target.process.exitCode ?? target.process.signalCode}) ${when}`,
    );
    return;
  }
  try {
    const response = await fetch(target.liveness, { signal: AbortSignal.timeout(HANG_MS) });
    await response.arrayBuffer();
    if (response.status !== 200)
      failures.push(`${target.name}: ${target.liveness} answered ${response.status} ${when}`);
  } catch (error) {
    failures.push(`${target.name}: ${target.liveness} failed ${when}: ${String(error)}`);
  }
}

// The checks above must be able to fail: a server that misbehaves in each way is caught.
test('fuzz verdicts catch a 500, a stack trace, an echo, a malformed response and a hang', async (t) => {
  const answers: Record<string, string | undefined> = {
    '/500': 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n',
    '/502': 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n',
    '/stack':
      'HTTP/1.1 400 Bad Request\r\nContent-Length: 40\r\n\r\nError: x\n    at parse (/app/src/x.js:1:2)\n',
    '/echo': 'HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n<rk0x0>?echo',
    '/fold': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n',
    '/short': 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
    '/both': 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    '/hang': undefined,
  };
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      const path = /^GET (\S+)/.exec(chunk.toString('latin1'))?.[1] ?? '';
      const answer = answers[path];
      if (answer !== undefined) socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  for (const path of Object.keys(answers)) {
    const fuzzCase: FuzzCase = {
      seed: 0,
      index: 0,
      mutations: [],
      chunks: [Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)],
      head: false,
      endAfterWrite: true,
      marker: '<rk0x0>',
      deadline: false,
    };
    const exchange = await exchangeRaw({
      port,
      chunks: fuzzCase.chunks,
      endAfterWrite: true,
      quietMs: 0,
      hangMs: 300,
      progress: () => 'wait',
    });
    const verdict = judge(fuzzCase, exchange, () => false);
    assert.equal(typeof verdict, 'string', `${path} passed: ${JSON.stringify(verdict)}`);
  }
});
