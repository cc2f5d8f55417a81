/** Closed-loop saturation load for the benchmarks: one wrk run, pinned, parsed. */
import { spawn } from 'node:child_process';
import { CAN_PIN } from './balancer-processes.ts';
import { trackChild } from './bench-process.ts';

export interface WrkResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  /** @default 64 (as in the anchors) */
  readonly connections?: number | undefined;
  /** Pin wrk to this CPU. */
  readonly cpu?: number | undefined;
  /** A wrk Lua script (`-s`), e.g. one that varies the path. */
  readonly script?: string | undefined;
}

/**
 * Runs `wrk -t1 -c<connections> -d<seconds>s --latency` and parses it. Asynchronous (not
 * spawnSync) so the bench's signal handlers still run while it measures.
 */
export async function wrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections ?? 64}`, `-d${options.seconds}s`, '--latency'];
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(options.url);
  const pinned = options.cpu !== undefined && CAN_PIN;
  const child = pinned ? spawn('taskset', ['-c', String(options.cpu), 'wrk', ...args]) : spawn('wrk', args);
  trackChild(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': a process can exit before its stdout has been read to the end.
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err || out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`could not read wrk output:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((a, b) => a + Number(b), 0);
  return {
    rps,
    p50: toMs(/\s50%\s+([\d.]+)(us|ms|s)/.exec(out)),
    p99: toMs(/\s99%\s+([\d.]+)(us|ms|s)/.exec(out)),
    errors: non2xx + socketErrors,
  };
}

function toMs(m: RegExpExecArray | null): number {
  if (m === null) return Number.NaN;
  const value = Number(m[1]);
  return m[2] === 'us' ? value / 1000 : m[2] === 's' ? value * 1000 : value;
}
