import type { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import type { BackendsReport } from '../../src/admin/backends-report.ts';
import type { Backend } from '../../src/backend.ts';
import { Balancer, type BalancerRuntime } from '../../src/balancer.ts';
import type { Discovery } from '../../src/discover/discovery.ts';
import { seededRng } from './seeded-rng.ts';
import { startTestBackend, type TestBackend, until } from './test-backend.ts';

/** A balancer started by {@link BalancerFixture}, with its two listeners' URLs. */
export interface StartedBalancer {
  readonly balancer: Balancer;
  readonly proxy: string;
  readonly admin: string;
}

/** What {@link BalancerFixture.request} sends. */
export interface TextRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer | Readable;
}

/** A response read to the end as text. */
export interface TextResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly body: string;
}

/**
 * Fast checks, so states change within a test: a probe every 50 ms, one to rise, a 503 drains
 * at once. Three misses to fall: the test process runs client, proxy and backends on one event
 * loop, and under load a lone probe outlives a 50 ms timeout (all backends then flap together).
 * Slow start off unless a test turns it on, so shares are the algorithm's alone.
 */
const TEST_DEFAULTS = Object.freeze({
  listen: '127.0.0.1:0',
  admin: '127.0.0.1:0',
  healthCheck: { interval: 50, timeout: 50, rise: 1, fall: 3 },
  slowStart: { window: 0 },
});

/**
 * Everything one test opens through the whole balancer (loopback backends, balancers, a
 * keep-alive client) and closes again with {@link close}, so a failing assertion leaks nothing.
 */
export class BalancerFixture {
  // Backend state changes and ejections seen so far, for steady().
  #changes = 0;
  readonly #open: Array<{ close(): Promise<void> }> = [];
  #client: Agent | undefined;

  /** Starts one loopback backend per name; each answers 200 with its name. */
  async backends(...names: string[]): Promise<TestBackend[]> {
    const started = await Promise.all(names.map((name) => startTestBackend(name)));
    this.#open.push(...started);
    return started;
  }

  /**
   * Starts a balancer over `backends` with {@link TEST_DEFAULTS} and `options` on top (whole
   * sections replaced, not merged), seeded randomness, and waits until `ready` of them are ready.
   */
  start(
    backends: readonly TestBackend[],
    options: Record<string, unknown> = {},
    ready = backends.length,
  ): Promise<StartedBalancer> {
    return this.#start({ backends: backends.map((b) => b.url), ...options }, {}, ready);
  }

  /** The same, with backends from `discovery` instead (closed with the balancer). */
  startDiscovered(
    discovery: Discovery,
    options: Record<string, unknown>,
    ready: number,
  ): Promise<StartedBalancer> {
    return this.#start(options, { discovery }, ready);
  }

  async #start(
    options: Record<string, unknown>,
    runtime: BalancerRuntime,
    ready: number,
  ): Promise<StartedBalancer> {
    const balancer = new Balancer({ ...TEST_DEFAULTS, ...options }, { rng: seededRng(7), ...runtime });
    balancer.backends.onChange(() => this.#changes++);
    this.#open.push(balancer);
    const addresses = await balancer.start();
    await until(() => balancer.backends.readyCount(performance.now()) === ready, 3000, `${ready} ready`);
    return { balancer, ...addresses };
  }

  /** A request through the fixture's keep-alive client, its body read as text. */
  async request(url: string, init: TextRequest = {}): Promise<TextResponse> {
    this.#client ??= new Agent({ keepAliveTimeout: 1000 });
    const res = await request(url, {
      dispatcher: this.#client,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers ?? {},
      body: init.body ?? null,
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  /**
   * Runs `work` once the backends are `settled`, and again (up to `attempts` times in all) when
   * some backend changed state meanwhile: routes and shares only mean something over a set of
   * backends that held still, and on a starved CPU a probe can outlive its timeout and take a
   * backend down for a moment.
   */
  async steady<T>(work: () => Promise<T>, settled: () => boolean, attempts = 3): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await until(settled, 3000, 'backends settled');
      const before = this.#changes;
      const result = await work();
      if ((this.#changes === before && settled()) || attempt >= attempts) return result;
    }
  }

  /** `/api/backends` of a started balancer. */
  async report(started: StartedBalancer): Promise<BackendsReport> {
    return JSON.parse((await this.request(`${started.admin}/api/backends`)).body) as BackendsReport;
  }

  /** `/metrics` of a started balancer, as exposition text. */
  async metrics(started: StartedBalancer): Promise<string> {
    return (await this.request(`${started.admin}/metrics`)).body;
  }

  /** Closes everything opened since the last call; safe to call after a failure. */
  async close(): Promise<void> {
    const open = this.#open.splice(0);
    const client = this.#client;
    this.#client = undefined;
    await Promise.all([...open.map((o) => o.close()), client?.close()]);
  }
}

/** The balancer's view of a test backend (its readiness, ejection, stats). */
export function backendOf(started: StartedBalancer, backend: TestBackend): Backend {
  for (const b of started.balancer.backends.all()) if (b.id === backend.url) return b;
  throw new Error(`${backend.url} is not one of the balancer's backends`);
}
