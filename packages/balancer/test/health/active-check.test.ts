import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Served, serve } from '../../../../test/support/loopback-server.ts';
import { BalancerErrorCodes } from '../../src/errors.ts';
import {
  type ActiveCheckOptions,
  ActiveHealthCheck,
  probeDelay,
  resolveActiveCheckOptions,
} from '../../src/health/active-check.ts';
import type { CheckOutcome } from '../../src/health/readiness-tracker.ts';

/** A started check whose outcomes are queued; `next()` waits for the next one. */
function startCheck(options: ActiveCheckOptions) {
  const outcomes: CheckOutcome[] = [];
  let wake: (() => void) | undefined;
  const check = new ActiveHealthCheck(options, (outcome) => {
    outcomes.push(outcome);
    wake?.();
  });
  check.start();
  return {
    check,
    outcomes,
    async next(): Promise<CheckOutcome> {
      while (outcomes.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return outcomes.shift()!;
    },
  };
}

async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (served: Served) => Promise<void>,
): Promise<void> {
  const served = await serve(handler);
  try {
    await body(served);
  } finally {
    await served.close();
  }
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ActiveHealthCheck', () => {
  it('maps statuses to outcomes', async () => {
    const cases: Array<[number, CheckOutcome]> = [
      [200, { kind: 'ready' }],
      [204, { kind: 'ready' }],
      [503, { kind: 'not-ready', status: 503 }],
      [500, { kind: 'not-ready', status: 500 }],
      [404, { kind: 'not-ready', status: 404 }],
      [301, { kind: 'not-ready', status: 301 }],
    ];
    for (const [status, expected] of cases) {
      await withServer(
        (_req, res) => {
          res.statusCode = status;
          res.end(status === 204 ? undefined : 'body\n');
        },
        async ({ url }) => {
          const probe = startCheck({ origin: url });
          try {
            assert.deepEqual(await probe.next(), expected, `status ${status}`);
          } finally {
            await probe.check.close();
          }
        },
      );
    }
  });

  it('sends GET <path> with its user agent and extra headers', async () => {
    const seen: IncomingMessage[] = [];
    await withServer(
      (req, res) => {
        seen.push(req);
        res.end('ok');
      },
      async ({ url }) => {
        const probe = startCheck({ origin: url, headers: { 'X-Probe': 'yes' } });
        await probe.next();
        await probe.check.close();
        const probe2 = startCheck({
          origin: url,
          path: '/ready?verbose',
          headers: { 'User-Agent': 'custom' },
        });
        await probe2.next();
        await probe2.check.close();
      },
    );
    assert.equal(seen.length, 2);
    assert.deepEqual(
      seen.map((req) => [req.method, req.url, req.headers['user-agent'], req.headers['x-probe']]),
      [
        ['GET', '/readyz', 'readykit-balancer', 'yes'],
        ['GET', '/ready?verbose', 'custom', undefined],
      ],
    );
  });

  it('probes at once, then on the interval over one keep-alive connection', async () => {
    let connections = 0;
    await withServer(
      (_req, res) => res.end('ok'),
      async ({ server, url }) => {
        server.on('connection', () => connections++);
        const started = performance.now();
        const probe = startCheck({ origin: url, intervalMs: 50, rng: () => 0.5 });
        await probe.next();
        assert.ok(performance.now() - started < 45, 'the first probe does not wait for the interval');
        await probe.next();
        await probe.next();
        const elapsed = performance.now() - started;
        await probe.check.close();
        assert.ok(elapsed >= 95, `two intervals between three probes, took ${elapsed} ms`);
      },
    );
    assert.equal(connections, 1);
  });

  it('fails a probe that gets no answer within timeoutMs', async () => {
    await withServer(
      () => {}, // never answers
      async ({ url }) => {
        const started = performance.now();
        const probe = startCheck({ origin: url, timeoutMs: 150 });
        const outcome = await probe.next();
        const elapsed = performance.now() - started;
        await probe.check.close();
        assert.deepEqual(outcome, { kind: 'failed', reason: 'timeout' });
        assert.ok(elapsed >= 140 && elapsed < 1000, `failed after ${elapsed} ms`);
      },
    );
  });

  it('keeps at most one probe in flight', async () => {
    let requests = 0;
    await withServer(
      () => requests++, // never answers
      async ({ url }) => {
        const probe = startCheck({ origin: url, intervalMs: 50, timeoutMs: 400 });
        await sleep(300);
        assert.equal(requests, 1, 'no second probe while the first waits');
        assert.equal(probe.outcomes.length, 0);
        await probe.check.close();
      },
    );
  });

  it('fails a probe to a closed port', async () => {
    const port = await closedPort();
    const probe = startCheck({ origin: `http://127.0.0.1:${port}` });
    const outcome = await probe.next();
    await probe.check.close();
    assert.deepEqual(outcome, { kind: 'failed', reason: 'ECONNREFUSED' });
  });

  it('fails a probe whose connection is reset', async () => {
    await withServer(
      (req) => req.socket.destroy(),
      async ({ url }) => {
        const probe = startCheck({ origin: url });
        const outcome = await probe.next();
        await probe.check.close();
        assert.equal(outcome.kind, 'failed');
        assert.notEqual(outcome.kind === 'failed' && outcome.reason, 'timeout');
      },
    );
  });

  it('reads a large body no further than a few KB and keeps probing', async () => {
    const finished: boolean[] = [];
    await withServer(
      (_req, res) => {
        // 32 MB without a length, written only as fast as the client reads: more than
        // loopback socket buffers hold, so it can only finish if the client reads it all.
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let left = 512;
        const write = (): void => {
          while (left > 0 && !res.destroyed) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', write);
          }
          res.end();
        };
        res.on('close', () => finished.push(res.writableFinished));
        write();
      },
      async ({ url }) => {
        const probe = startCheck({ origin: url, intervalMs: 50 });
        assert.deepEqual(await probe.next(), { kind: 'ready' });
        assert.deepEqual(await probe.next(), { kind: 'ready' });
        await probe.check.close();
        // The server sees each response close a moment after the client has moved on.
        while (finished.length < 2) await sleep(5);
      },
    );
    assert.ok(
      finished.every((done) => !done),
      'the client closed every response before its end',
    );
  });

  it('close() stops probing and abandons a probe in flight unreported', async () => {
    let requests = 0;
    await withServer(
      (_req, res) => {
        requests++;
        res.end('ok');
      },
      async ({ url }) => {
        const probe = startCheck({ origin: url, intervalMs: 50 });
        await probe.next();
        await probe.next();
        await probe.check.close();
        const after = requests;
        await sleep(200);
        assert.equal(requests, after, 'no probe after close');
        assert.equal(probe.outcomes.length, 0);
        probe.check.start();
        await sleep(100);
        assert.equal(requests, after, 'start() after close() does nothing');
      },
    );
    await withServer(
      () => {}, // never answers
      async ({ url }) => {
        const probe = startCheck({ origin: url, timeoutMs: 5000 });
        await sleep(50);
        const started = performance.now();
        await probe.check.close();
        assert.ok(performance.now() - started < 1000, 'close() does not wait for the timeout');
        await sleep(50);
        assert.equal(probe.outcomes.length, 0);
        assert.equal(probe.check.close(), probe.check.close(), 'close() is idempotent');
      },
    );
  });

  it('draws the jitter from the injected rng', async () => {
    let draws = 0;
    await withServer(
      (_req, res) => res.end('ok'),
      async ({ url }) => {
        const probe = startCheck({
          origin: url,
          rng: () => {
            draws++;
            return 0.5;
          },
        });
        await probe.next();
        await probe.check.close();
      },
    );
    assert.equal(draws, 1, 'one draw per scheduled probe');
  });
});

describe('probeDelay', () => {
  it('moves the interval by up to ±10 %', () => {
    const cases: Array<[number, number]> = [
      [0, 1800],
      [0.25, 1900],
      [0.5, 2000],
      [0.75, 2100],
      [0.999_999, 2199.999_6],
    ];
    for (const [draw, expected] of cases) {
      assert.ok(Math.abs(probeDelay(2000, () => draw) - expected) < 1e-6, `rng ${draw}`);
    }
  });
});

describe('resolveActiveCheckOptions', () => {
  it('applies defaults and freezes the result', () => {
    const resolved = resolveActiveCheckOptions({ origin: 'http://10.0.0.7:3000/' });
    assert.equal(resolved.origin, 'http://10.0.0.7:3000');
    assert.equal(resolved.path, '/readyz');
    assert.equal(resolved.intervalMs, 2000);
    assert.equal(resolved.timeoutMs, 1000);
    assert.equal(resolved.rng, Math.random);
    assert.deepEqual({ ...resolved.headers }, { 'user-agent': 'readykit-balancer' });
    assert.ok(Object.isFrozen(resolved) && Object.isFrozen(resolved.headers));
  });

  it('refuses bad values, naming the key', () => {
    const origin = 'http://127.0.0.1:3000';
    const cases: Array<[ActiveCheckOptions, RegExp]> = [
      [{ origin: 'ftp://127.0.0.1' }, /^healthCheck\.origin must be an http\(s\) origin/],
      [{ origin: 'http://127.0.0.1:3000/app' }, /^healthCheck\.origin /],
      [{ origin: 'http://user:pw@127.0.0.1' }, /^healthCheck\.origin /],
      [{ origin: 'not a url' }, /^healthCheck\.origin /],
      [{ origin: 42 as unknown as string }, /^healthCheck\.origin /],
      [{ origin, path: 'readyz' }, /^healthCheck\.path /],
      [{ origin, path: '/ready z' }, /^healthCheck\.path /],
      [{ origin, path: '/readyz\r\nX: 1' }, /^healthCheck\.path /],
      [
        { origin, intervalMs: 10 },
        /^healthCheck\.intervalMs must be a number from 50 ms to 86400000 ms, got 10$/,
      ],
      [{ origin, timeoutMs: 0 }, /^healthCheck\.timeoutMs /],
      [{ origin, timeoutMs: Number.NaN }, /^healthCheck\.timeoutMs /],
      [{ origin, rng: 0.5 as unknown as () => number }, /^healthCheck\.rng must be a function/],
      [{ origin, headers: { 'bad name': 'x' } }, /^healthCheck\.headers /],
      [{ origin, headers: { 'x-a': 'a\r\nx-b: b' } }, /^healthCheck\.headers\.x-a /],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => resolveActiveCheckOptions(options), {
        code: BalancerErrorCodes.INVALID_CONFIG,
        message,
      });
    }
    assert.throws(() => new ActiveHealthCheck({ origin }, undefined as never), /^BalancerError: onOutcome /);
  });
});
