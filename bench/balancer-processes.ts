/**
 * Child processes of the balancer benchmarks: proxies, backends and load generators, optionally
 * pinned to one CPU with taskset. Each runs in its own process group so that stopping it also
 * stops what it forked (nginx workers outlive a killed master otherwise); every group still
 * running is killed when the bench exits, Ctrl-C included (runBench turns signals into exits).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const groups = new Set<number>();
process.on('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Whether `taskset` works here: without it, nothing is pinned and the report says so. */
export const CAN_PIN = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;

/** Whether `command` can be run (looked up on PATH). */
export function haveCommand(command: string, versionFlag = '-v'): boolean {
  return spawnSync(command, [versionFlag], { stdio: 'ignore' }).error === undefined;
}

export interface StartOptions {
  /** What the error messages call it. */
  readonly label: string;
  /** Pin to this CPU (when taskset works). */
  readonly cpu?: number | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** A line on stdout or stderr that means "serving"; without it, started means ready. */
  readonly ready?: RegExp | undefined;
  /** @default 10000 */
  readonly timeoutMs?: number | undefined;
}

export interface BenchProcess {
  readonly child: ChildProcess;
  /** The `ready` line's match (capture groups: ports, URLs). */
  readonly match: RegExpExecArray | undefined;
  /** Everything it printed, for the error message when it dies. */
  readonly output: string[];
  /** SIGTERM to the group, SIGKILL after 3 s; resolves once the leader exited. */
  stop(): Promise<void>;
}

/** Starts `command`, resolving once its `ready` line appeared; rejects (with its output) if it exits first. */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions,
): Promise<BenchProcess> {
  const pinned = options.cpu !== undefined && CAN_PIN;
  const child = spawn(
    pinned ? 'taskset' : command,
    pinned ? ['-c', String(options.cpu), command, ...args] : args,
    {
      detached: true,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.label}: could not start ${command}`);
  groups.add(pid);
  child.once('exit', () => groups.delete(pid));
  const output: string[] = [];
  const exited = once(child, 'exit');
  const match = await new Promise<RegExpExecArray | undefined>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`${options.label} not ready within ${options.timeoutMs ?? 10_000} ms:\n${tail(output)}`),
      );
    }, options.timeoutMs ?? 10_000);
    const settle = (value: RegExpExecArray | undefined): void => {
      clearTimeout(timer);
      resolve(value);
    };
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (output.length < 200) output.push(line);
        const m = options.ready?.exec(line);
        if (m) settle(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${options.label}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited (${code ?? signal}) before it was ready:\n${tail(output)}`));
    });
    if (options.ready === undefined) setImmediate(() => settle(undefined));
  });
  // Children that watch stdin (the Node proxies here) exit if the bench dies without cleaning up.
  child.stdin.on('error', () => {});
  return {
    child,
    match,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
      // Workers of a group (nginx) may exit a moment after their master.
      killGroup(pid, 'SIGKILL');
    },
  };
}

function tail(lines: readonly string[]): string {
  return lines.slice(-15).join('\n');
}

/** A port free on 127.0.0.1 right now, for servers configured by file (nginx, HAProxy) that cannot report port 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once `url` answers 200 (a proxy whose backends passed their first health check), or throws. */
export async function waitFor200(url: string, label: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`${label}: ${url} did not answer 200 within ${timeoutMs} ms (${last})`);
}
