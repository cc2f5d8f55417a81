import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { BalancerFixture } from './support/balancer-fixture.ts';

// Client, proxy and backend share this process and churn through Buffers faster than V8
// collects them: without a forced GC the RSS peak (65-100 MB over 100 MB) measures garbage,
// not what anything holds on to. Collecting every 50 ms leaves what is retained.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const fx = new BalancerFixture();
afterEach(() => fx.close());

const MB = 1024 * 1024;
const BODY = 100 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Far below the 100 MB moved: what a proxy that buffers whole bodies could never stay under. */
const MAX_RSS_GROWTH = 60 * MB;
/** Bytes between the sender and the receiver at any time: socket buffers both sides of the proxy. */
const MAX_IN_FLIGHT = 32 * MB;

/** The process's RSS peak over a baseline taken after a GC, sampled every 10 ms. */
class RssWatch {
  readonly #base: number;
  readonly #timer: NodeJS.Timeout;
  #peak: number;
  #ticks = 0;
  // Sampled with the RSS, by the caller's probe: the most bytes between sender and receiver.
  #inFlight = 0;

  constructor(inFlight: () => number = () => 0) {
    gc();
    this.#base = process.memoryUsage.rss();
    this.#peak = this.#base;
    this.#timer = setInterval(() => {
      if (++this.#ticks % 5 === 0) gc();
      this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
      this.#inFlight = Math.max(this.#inFlight, inFlight());
    }, 10);
  }

  stop(): { growth: number; inFlight: number } {
    clearInterval(this.#timer);
    return { growth: this.#peak - this.#base, inFlight: this.#inFlight };
  }
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** Reads `req` counting bytes, pausing 10 ms every 2 MB, as a backend busy with something else. */
function countSlowly(stream: IncomingMessage | Readable, onBytes: (n: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    let mark = 0;
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      onBytes(chunk.length);
      if (total - mark >= 2 * MB) {
        mark = total;
        stream.pause();
        setTimeout(() => stream.resume(), 10);
      }
    });
    stream.on('end', () => resolve(total));
    stream.on('error', reject);
  });
}

/** Writes `size` bytes of `CHUNK`s to `res` as fast as it drains; `onAccepted` per chunk accepted. */
function generate(
  res: NodeJS.WritableStream,
  size: number,
  onAccepted: (n: number) => void,
  onBlocked: (blocked: boolean) => void = () => {},
): void {
  let left = size;
  const pump = (): void => {
    onBlocked(false);
    while (left > 0) {
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      onAccepted(chunk.length);
      if (!res.write(chunk)) {
        onBlocked(true);
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

describe('streaming through the proxy', () => {
  it('streams a 100 MB request body to a slow backend in bounded memory', async (t) => {
    const [a] = await fx.backends('a');
    let received = 0;
    a!.handler = (req, res) => {
      void countSlowly(req, (n) => {
        received += n;
      }).then((total) => res.end(String(total)));
    };
    const started = await fx.start([a!]);
    let sent = 0;
    let left = BODY;
    const body = new Readable({
      read() {
        if (left === 0) {
          this.push(null);
          return;
        }
        left -= CHUNK.length;
        sent += CHUNK.length;
        this.push(CHUNK);
      },
    });
    const watch = new RssWatch(() => sent - received);
    const res = await request(`${started.proxy}/upload`, { method: 'POST', body });
    const answer = await res.body.text();
    const { growth, inFlight } = watch.stop();
    t.diagnostic(`RSS growth ${mb(growth)}, at most ${mb(inFlight)} between client and backend`);
    assert.equal(res.statusCode, 200);
    assert.equal(answer, String(BODY));
    assert.ok(inFlight < MAX_IN_FLIGHT, `${mb(inFlight)} in flight`);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew ${mb(growth)}`);
  });

  it('streams a 100 MB response to a slow client in bounded memory', async (t) => {
    const [a] = await fx.backends('a');
    let accepted = 0;
    a!.handler = (_req, res) => {
      generate(res, BODY, (n) => {
        accepted += n;
      });
    };
    const started = await fx.start([a!]);
    let got = 0;
    const watch = new RssWatch(() => accepted - got);
    const res = await request(`${started.proxy}/download`);
    const total = await countSlowly(Readable.from(res.body), (n) => {
      got += n;
    });
    const { growth, inFlight } = watch.stop();
    t.diagnostic(`RSS growth ${mb(growth)}, at most ${mb(inFlight)} between backend and client`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked', 'the backend sent no length; Node frames it');
    assert.equal(total, BODY);
    assert.ok(inFlight < MAX_IN_FLIGHT, `${mb(inFlight)} in flight`);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew ${mb(growth)}`);
  });

  it('holds the backend back while a client does not read, then delivers every byte', async (t) => {
    const [a] = await fx.backends('a');
    const size = 128 * MB;
    let accepted = 0;
    let blocked = false;
    a!.handler = (_req, res) => {
      res.setHeader('content-length', size);
      generate(
        res,
        size,
        (n) => {
          accepted += n;
        },
        (now) => {
          blocked = now;
        },
      );
    };
    const started = await fx.start([a!]);
    let socket: Socket | undefined;
    try {
      const watch = new RssWatch();
      let received = Buffer.alloc(0);
      let bytes = 0;
      socket = connect(Number(new URL(started.proxy).port), '127.0.0.1');
      socket.on('data', (chunk: Buffer) => {
        // Keep the head for its headers; count the rest.
        if (received.length < 512) received = Buffer.concat([received, chunk]);
        bytes += chunk.length;
      });
      socket.pause();
      socket.write('GET /big HTTP/1.1\r\nHost: app.example\r\n\r\n');

      // Once every socket buffer on the way is full, the backend's writes stop returning true.
      let stalledAt = -1;
      const stallStart = performance.now();
      while (stalledAt !== accepted) {
        assert.ok(performance.now() - stallStart < 3000, 'the backend never stalled');
        stalledAt = accepted;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const { growth } = watch.stop();
      t.diagnostic(`stalled after ${mb(accepted)} of ${mb(size)}; RSS growth ${mb(growth)}`);
      assert.equal(blocked, true, 'waiting for drain');
      assert.ok(accepted < MAX_IN_FLIGHT, `${mb(accepted)} left the backend`);
      assert.ok(growth < MAX_RSS_GROWTH, `RSS grew ${mb(growth)}`);

      const ended = new Promise<void>((resolve, reject) => {
        const check = (): void => {
          const headEnd = received.indexOf('\r\n\r\n');
          if (headEnd >= 0 && bytes - headEnd - 4 >= size) resolve();
        };
        socket!.on('data', check);
        socket!.on('error', reject);
      });
      socket.resume();
      await ended;
      const head = received.toString('latin1', 0, received.indexOf('\r\n\r\n'));
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.match(head, new RegExp(`\r\ncontent-length: ${size}\r\n`, 'i'));
      assert.equal(bytes - head.length - 4, size);
    } finally {
      socket?.destroy();
    }
  });
});
