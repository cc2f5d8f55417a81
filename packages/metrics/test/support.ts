import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { Health, type HealthOptions } from '@readykit/health';
import { type Served, serve } from '../../../test/support/loopback-server.ts';
import { createMetrics, type Metrics, type MetricsOptions } from '../src/index.ts';

export { type Served, serve };

export type AppHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A server wired as an adapter would: scrapes through `metrics.handle()`, every other request
 * tracked, then `app` (200 "ok" by default). Runtime metrics are off unless asked for, so
 * tests read only what they produce. `close()` closes the server and the metrics.
 */
export async function serveMetrics(
  options: MetricsOptions = {},
  app: AppHandler = (_req, res) => res.end('ok'),
): Promise<Served & { metrics: Metrics }> {
  const metrics = createMetrics({ runtime: false, ...options });
  const served = await serve((req, res) => {
    if (metrics.handle(req, res)) return;
    metrics.track(req, res);
    app(req, res);
  });
  return {
    ...served,
    metrics,
    close: async () => {
      await served.close();
      await metrics.close();
    },
  };
}

/** A Health instance that never touches process signals or exits: safe inside the test runner. */
export function testHealth(options: HealthOptions = {}): Health {
  return new Health({ ...options, shutdown: { signals: [], exit: false, ...options.shutdown } });
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** One request over node:http (any method, even ones fetch refuses), body read in full. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.end();
  });
}

export function scrapeText(url: string, accept?: string): Promise<Answer> {
  return send(`${url}/metrics`, accept === undefined ? {} : { headers: { accept } });
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly exemplar?: { readonly labels: Readonly<Record<string, string>>; readonly value: number };
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*?\})? (\S+)(?: # (\{.*?\}) (\S+)(?: (\S+))?)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(block: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (block === undefined) return labels;
  for (const m of block.matchAll(LABEL)) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function parseNumber(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Parses exposition text (either format) into samples; throws on a line it cannot read. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`unparsable line: ${line}`);
    const sample: Sample = {
      name: m[1]!,
      labels: parseLabels(m[2]),
      value: parseNumber(m[3]!),
      ...(m[4] === undefined ? {} : { exemplar: { labels: parseLabels(m[4]), value: parseNumber(m[5]!) } }),
    };
    samples.push(sample);
  }
  return samples;
}

/** The samples named `name` whose labels include every pair of `labels`. */
export function find(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one sample named `name` with `labels`; fails when there is not exactly one. */
export function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels);
  if (found.length !== 1) {
    throw new Error(`expected one ${name}${JSON.stringify(labels)}, found ${found.length}`);
  }
  return found[0]!.value;
}

export async function scrapeSamples(metrics: Metrics): Promise<Sample[]> {
  return parseExposition(await metrics.scrape());
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** Polls `condition` every 5 ms until it holds or `timeout` ms pass. */
export async function until(condition: () => boolean | Promise<boolean>, timeout = 2_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
