import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** One process the demo started: its output lines, its exit, and a way to stop it. */
export interface DemoProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every stdout and stderr line so far. */
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first capture group of the first line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves on exit. */
  stop(graceMs: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort when the demo itself exits without stopping them (an uncaught error): never leave one behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Pids of the processes still running, for the demo's own check (and its tests) that none is left. */
export function runningPids(): number[] {
  return [...running].map((child) => child.pid!);
}

/**
 * Starts `command`. Each child gets its own process group (`detached`), so a Ctrl-C in the
 * terminal reaches the demo alone, and the demo stops its children in order: load first,
 * then the balancer and the services.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  onLine: (line: string) => void = () => {},
): DemoProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      for (const wake of waiters) wake();
    });
    child.once('error', () => {
      running.delete(child);
      resolve({ code: null, signal: null });
      for (const wake of waiters) wake();
    });
  });
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
  });
  const collect = (): ((chunk: Buffer) => void) => {
    let buffered = '';
    return (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        onLine(line);
        for (const wake of waiters) wake();
      }
    };
  };
  child.stdout!.on('data', collect());
  child.stderr!.on('data', collect());
  return {
    name,
    pid: child.pid ?? -1,
    child,
    output,
    exited,
    waitForLine: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let from = 0;
      for (;;) {
        for (; from < output.length; from++) {
          const m = pattern.exec(output[from]!);
          if (m) return m[1] ?? m[0];
        }
        if (exitedYet) throw new Error(`${name} exited before printing ${pattern}:\n${output.join('\n')}`);
        if (Date.now() > deadline)
          throw new Error(`${name}: no line matching ${pattern} after ${timeoutMs} ms`);
        let wake: () => void = () => {};
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        waiters.add(wake);
        await Promise.race([woken, sleep(100)]);
        waiters.delete(wake);
      }
    },
    signal: (signal) => {
      if (!exitedYet) child.kill(signal);
    },
    stop: async (graceMs) => {
      if (exitedYet) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
