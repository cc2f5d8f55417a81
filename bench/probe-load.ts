/** The load generator's pieces: one timed probe, one concurrent round, and the summary maths. */

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ProbeSample {
  /** Client-side: from writing the request until the whole body was read. */
  readonly ms: number;
  readonly status: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * A deliberately lean HTTP/1.1 client: keep-alive sockets, one request in flight on each, a
 * preformatted request line and just enough parsing (status, Content-Length) to know when a
 * response is complete. A full client (undici) spends about 5 ms of CPU per round of 100
 * responses on this machine, more than the probes themselves, and that cost would land in
 * the very percentiles being measured.
 */
export class ProbeClient {
  readonly #sockets: ProbeSocket[];

  private constructor(sockets: ProbeSocket[]) {
    this.#sockets = sockets;
  }

  /** Opens `connections` keep-alive sockets; a probe unanswered after `timeoutMs` fails. */
  static async connect(port: number, connections: number, timeoutMs: number): Promise<ProbeClient> {
    const sockets = await Promise.all(
      Array.from({ length: connections }, () => ProbeSocket.open(port, timeoutMs)),
    );
    return new ProbeClient(sockets);
  }

  get connected(): number {
    return this.#sockets.filter((s) => s.open).length;
  }

  /** One timed `GET <path>` on the first socket. */
  probe(path: string): Promise<ProbeSample> {
    return this.#sockets[0]!.get(path);
  }

  /** `concurrency` probes written in the same tick, one per socket. */
  round(path: string, concurrency: number): Promise<ProbeSample[]> {
    return Promise.all(this.#sockets.slice(0, concurrency).map((s) => s.get(path)));
  }

  destroy(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

class ProbeSocket {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #buffer = '';
  #started = 0;
  #pending: { resolve: (s: ProbeSample) => void; reject: (e: Error) => void } | undefined;
  open = true;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => {
      this.open = false;
      this.#fail('connection closed by the server');
    });
    socket.on('error', () => {});
  }

  static open(port: number, timeoutMs: number): Promise<ProbeSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new ProbeSocket(socket, timeoutMs)));
      socket.once('error', reject);
    });
  }

  get(path: string): Promise<ProbeSample> {
    if (this.#pending !== undefined) return Promise.reject(new Error('one request at a time per socket'));
    if (!this.open) return Promise.reject(new Error('connection closed by the server'));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#timer = setTimeout(() => this.#fail(`no answer within ${this.#timeoutMs} ms`), this.#timeoutMs);
      this.#buffer = '';
      this.#started = performance.now();
      this.#socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    const headerEnd = this.#buffer.indexOf('\r\n\r\n');
    if (headerEnd === -1 || this.#pending === undefined) return;
    const length = /\r\ncontent-length: *(\d+)/i.exec(this.#buffer.slice(0, headerEnd));
    if (length === null) {
      this.#fail('response without Content-Length');
      return;
    }
    if (this.#buffer.length < headerEnd + 4 + Number(length[1])) return;
    const ms = performance.now() - this.#started;
    const status = Number(this.#buffer.slice(9, 12));
    const { resolve } = this.#pending;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    resolve({ ms, status });
  }

  #fail(why: string): void {
    clearTimeout(this.#timer);
    this.#pending?.reject(new Error(why));
    this.#pending = undefined;
  }
}

/** Nearest-rank percentile (no interpolation): the smallest sample with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly ProbeSample[]): LatencySummary {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** How many probes answered with each status code. */
export function statusCounts(samples: readonly ProbeSample[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { status } of samples) counts.set(status, (counts.get(status) ?? 0) + 1);
  return counts;
}
