import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

/** Remembers a server the bench started, so no exit path (Ctrl-C included) leaves it running. */
export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Runs a bench's main function: SIGINT and SIGTERM stop its servers and exit 130/143, any
 * exit kills what is left, and a failure prints one line and exits 1.
 */
export function runBench(name: string, main: () => Promise<number>): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const child of children) child.kill('SIGTERM');
      process.exit(code);
    });
  }
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
