import { type Served, serve } from '../../../test/support/loopback-server.ts';
import { Health, type HealthOptions } from '../src/index.ts';

export { type Served, serve };

/** A Health instance that never touches process signals or exits: safe inside the test runner. */
export function testHealth(options: HealthOptions = {}): Health {
  return new Health({ ...options, shutdown: { signals: [], exit: false, ...options.shutdown } });
}

/** A server answering probes through `health.handle()` and 200 "app" otherwise. */
export async function serveHealth(health: Health): Promise<Served> {
  const served = await serve((req, res) => {
    if (!health.handle(req, res)) res.end('app');
  });
  health.attach(served.server);
  return served;
}

export async function text(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Deterministic random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
