import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One scrape target: `host:port` of a /metrics endpoint and the labels its series get. */
export interface ScrapeTarget {
  readonly job: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly metricsPath?: string;
}

/** A sample of an instant query: the series' labels and its value (NaN for Prometheus' "NaN"). */
export interface InstantSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface RangeSeries {
  readonly metric: Record<string, string>;
  /** `[unix seconds, value]` pairs. */
  readonly values: ReadonlyArray<readonly [number, number]>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real Prometheus (Debian package `prometheus`) on 127.0.0.1 and a free port, scraping static
 * targets every `scrapeIntervalSeconds` with a generated configuration, storing into a temporary
 * directory that `stop()` removes.
 */
export class PrometheusServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #output: string[];
  readonly #exited: Promise<unknown>;

  private constructor(url: string, child: ChildProcess, dir: string, output: string[]) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
    this.#output = output;
    this.#exited = once(child, 'exit');
  }

  /** Prometheus' own log lines so far. */
  get output(): string {
    return this.#output.join('');
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  static async start(targets: readonly ScrapeTarget[], scrapeIntervalSeconds = 1): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'rk-prometheus-'));
    const jobs = new Map<string, ScrapeTarget[]>();
    for (const t of targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
    const config = {
      global: {
        scrape_interval: `${scrapeIntervalSeconds}s`,
        scrape_timeout: `${Math.round(scrapeIntervalSeconds * 900)}ms`,
        evaluation_interval: `${scrapeIntervalSeconds}s`,
      },
      scrape_configs: [...jobs].map(([job, list]) => ({
        job_name: job,
        metrics_path: list[0]!.metricsPath ?? '/metrics',
        static_configs: list.map((t) => ({ targets: [t.address], labels: t.labels })),
      })),
    };
    // YAML is a superset of JSON.
    await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    for (let attempt = 1; ; attempt++) {
      const port = await freeTcpPort();
      const output: string[] = [];
      const child = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--storage.tsdb.retention.time=1h',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      running.add(child);
      child.once('exit', () => running.delete(child));
      child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir, output);
      try {
        await server.#waitReady();
        return server;
      } catch (error) {
        await server.#kill();
        if (attempt === 5 || !/address already in use/.test(server.output)) {
          await rm(dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  async #waitReady(): Promise<void> {
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !exited) {
      try {
        if ((await fetch(`${this.url}/-/ready`)).status === 200) return;
      } catch {}
      await sleep(100);
    }
    throw new Error(`prometheus did not become ready${exited ? ' (it exited)' : ''}:\n${this.output}`);
  }

  /** Waits until every target has been scraped successfully at least `scrapes` times. */
  async waitForTargets(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = (await (await fetch(`${this.url}/api/v1/targets?state=active`)).json()) as {
        data: { activeTargets: Array<{ health: string; scrapeUrl: string; lastError: string }> };
      };
      const targets = body.data.activeTargets;
      if (targets.length === count && targets.every((t) => t.health === 'up')) return;
      if (Date.now() > deadline) {
        throw new Error(`targets not all up after ${timeoutMs} ms: ${JSON.stringify(targets)}`);
      }
      await sleep(200);
    }
  }

  /** `/api/v1/query` at `time` (unix seconds; now when omitted); throws on a query error. */
  async query(expr: string, time?: number): Promise<InstantSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', time.toFixed(3));
    const data = await this.#api<{
      resultType: string;
      result: Array<{ metric: Record<string, string>; value: [number, string] }>;
    }>(`/api/v1/query?${params}`);
    if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** `/api/v1/query_range`, `start`/`end` in unix seconds, `step` in seconds. */
  async queryRange(expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({
      query: expr,
      start: start.toFixed(3),
      end: end.toFixed(3),
      step: String(step),
    });
    const data = await this.#api<{
      result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
    }>(`/api/v1/query_range?${params}`);
    return data.result.map((r) => ({
      metric: r.metric,
      values: r.values.map(([t, v]) => [t, Number(v)] as const),
    }));
  }

  /** Series names Prometheus has for a selector (`/api/v1/series`). */
  async series(match: string, start: number, end: number): Promise<Array<Record<string, string>>> {
    const params = new URLSearchParams({ 'match[]': match, start: String(start), end: String(end) });
    return this.#api<Array<Record<string, string>>>(`/api/v1/series?${params}`);
  }

  async #api<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  }

  /** SIGTERM, wait for the exit (SIGKILL after 10 s), remove the data directory. */
  async stop(): Promise<void> {
    await this.#kill();
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }
}

/** A TCP port the OS says is free on 127.0.0.1 now (another process may take it before we do). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}
