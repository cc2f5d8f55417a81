import type { ServerResponse } from 'node:http';
import type { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidOption, knownKeys, plainObject, urlPath } from '@readykit/health/validate';
import type { ManagementHandler } from './management-server.ts';
import { matchesPath } from './metrics-http.ts';

export const DEFAULT_PROFILE_MAX_SECONDS = 30;
/** Length of a CPU profile when `?seconds` is not given (clamped to `maxSeconds`). */
export const DEFAULT_PROFILE_SECONDS = 10;
export const DEFAULT_PROFILING_PATH = '/debug';
/** `Retry-After` of a 409 while a heap snapshot is taken (its length cannot be known). */
const HEAP_RETRY_AFTER = 5;
const LONGEST_PROFILE = 3_600;

export interface ProfilingOptions {
  /** Longest CPU profile, in seconds; a longer `?seconds` is clamped to it (1 to 3600). @default 30 */
  maxSeconds?: number;
  /** Prefix of the two routes, `<basePath>/profile` and `<basePath>/heapsnapshot`. @default '/debug' */
  basePath?: string;
}

export interface ResolvedProfilingOptions {
  readonly maxSeconds: number;
  readonly basePath: string;
}

export function resolveProfilingOptions(options: ProfilingOptions = {}): ResolvedProfilingOptions {
  knownKeys('options', plainObject('options', options), ['maxSeconds', 'basePath']);
  const { maxSeconds } = options;
  if (
    maxSeconds !== undefined &&
    (typeof maxSeconds !== 'number' ||
      !Number.isInteger(maxSeconds) ||
      maxSeconds < 1 ||
      maxSeconds > LONGEST_PROFILE)
  ) {
    throw invalidOption('maxSeconds', `an integer from 1 to ${LONGEST_PROFILE}`, maxSeconds);
  }
  return Object.freeze({
    maxSeconds: maxSeconds ?? DEFAULT_PROFILE_MAX_SECONDS,
    basePath: options.basePath === undefined ? DEFAULT_PROFILING_PATH : urlPath('basePath', options.basePath),
  });
}

/**
 * One profile or snapshot at a time in this process, whatever handler started it: both
 * stall or slow the process they measure, and two at once would measure each other.
 */
let running: { readonly kind: 'profile' | 'heapsnapshot'; readonly endsAt: number } | undefined;

/**
 * Node's answer to Go's /debug/pprof, for a management listener only (never the public one):
 * `GET <basePath>/profile?seconds=N` answers a CPU profile (`.cpuprofile`, opens in Chrome
 * DevTools), `GET <basePath>/heapsnapshot` a heap snapshot. One at a time, 409 while one
 * runs; a client that hangs up stops its profile. Returns false for every other path.
 */
export function createProfiling(options?: ProfilingOptions): ManagementHandler {
  const { maxSeconds, basePath } = resolveProfilingOptions(options);
  const base = basePath === '/' ? '' : basePath;
  const profilePath = `${base}/profile`;
  const heapPath = `${base}/heapsnapshot`;
  const defaultSeconds = Math.min(DEFAULT_PROFILE_SECONDS, maxSeconds);

  return (req, res) => {
    const url = req.url ?? '/';
    const profile = matchesPath(url, profilePath);
    if (!profile && !matchesPath(url, heapPath)) return false;
    if (req.method !== 'GET') {
      writeText(res, 405, 'method not allowed\n', ['Allow', 'GET']);
      return true;
    }
    let seconds = 0;
    if (profile) {
      const parsed = parseSeconds(url, defaultSeconds, maxSeconds);
      if (typeof parsed === 'string') {
        writeText(res, 400, `${parsed}\n`);
        return true;
      }
      seconds = parsed;
    }
    if (running !== undefined) {
      const retry =
        running.kind === 'profile'
          ? Math.max(1, Math.ceil((running.endsAt - Date.now()) / 1000))
          : HEAP_RETRY_AFTER;
      writeText(res, 409, `a ${running.kind} is already running\n`, ['Retry-After', String(retry)]);
      return true;
    }
    const lock = profile
      ? { kind: 'profile' as const, endsAt: Date.now() + seconds * 1000 }
      : { kind: 'heapsnapshot' as const, endsAt: 0 };
    running = lock;
    const work = profile ? cpuProfile(res, seconds) : heapSnapshot(res);
    work
      .catch((error: unknown) => {
        process.emitWarning(
          `readykit profiling: ${lock.kind} failed: ${messageOf(error)}`,
          'ReadykitWarning',
        );
        if (res.headersSent) res.destroy();
        else writeText(res, 500, `${lock.kind} failed\n`);
      })
      .finally(() => {
        if (running === lock) running = undefined;
      });
    return true;
  };
}

/** The profile length asked for, clamped to 1..max, or a one-line reason it is malformed. */
export function parseSeconds(url: string, fallback: number, max: number): number | string {
  const q = url.indexOf('?');
  const values = q === -1 ? [] : new URLSearchParams(url.slice(q + 1)).getAll('seconds');
  if (values.length === 0) return fallback;
  const reason = `seconds must be a whole number of seconds (at most ${max} are used)`;
  if (values.length > 1 || !/^\d{1,9}$/.test(values[0]!)) return reason;
  return Math.min(max, Math.max(1, Number(values[0])));
}

async function openSession(): Promise<Session> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  return session;
}

async function cpuProfile(res: ServerResponse, seconds: number): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  const session = await openSession();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    try {
      await sleep(seconds * 1000, undefined, { signal: gone.signal, ref: false });
    } catch (error) {
      if (!gone.signal.aborted) throw error;
    }
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    if (gone.signal.aborted || res.destroyed) return;
    const body = JSON.stringify(profile);
    res.writeHead(200, [
      ...NEVER_CACHED,
      'Content-Type',
      'application/json',
      'Content-Length',
      String(Buffer.byteLength(body)),
      'Content-Disposition',
      `attachment; filename="${fileName('cpu', 'cpuprofile')}"`,
    ]);
    res.end(body);
  } finally {
    res.off('close', onClose);
    session.disconnect();
  }
}

/**
 * V8 takes the snapshot synchronously, stopping the process meanwhile, and hands it over in
 * chunks that are written as they come: the response buffers about one snapshot in memory.
 */
async function heapSnapshot(res: ServerResponse): Promise<void> {
  if (res.destroyed) return;
  const session = await openSession();
  try {
    session.on('HeapProfiler.addHeapSnapshotChunk', (message) => {
      if (res.destroyed) return;
      if (!res.headersSent) {
        res.writeHead(200, [
          ...NEVER_CACHED,
          'Content-Type',
          'application/json',
          'Content-Disposition',
          `attachment; filename="${fileName('heap', 'heapsnapshot')}"`,
        ]);
      }
      res.write(message.params.chunk);
    });
    await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    if (!res.headersSent) throw new Error('the snapshot came back empty');
    res.end();
  } finally {
    session.disconnect();
  }
}

const NEVER_CACHED = ['Cache-Control', 'no-store', 'X-Content-Type-Options', 'nosniff'];

function writeText(res: ServerResponse, status: number, body: string, extra: string[] = []): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, [
    ...NEVER_CACHED,
    ...extra,
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
  ]);
  res.end(body);
}

/** e.g. `cpu-20250101T120000Z-1234.cpuprofile`: sortable, and names the process. */
function fileName(kind: string, extension: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return `${kind}-${stamp}-${process.pid}.${extension}`;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.slice(0, 200);
}
