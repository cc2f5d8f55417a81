import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_SERVICE = fileURLToPath(
  new URL('../../examples/service/src/server.ts', import.meta.url),
);

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: string[];
  /** Resolves with the exit code (or signal) and when it happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the example service on a free loopback port, as `node examples/service/src/server.ts`
 * (or another script that logs "listening on http://…"); `nodeArgs` go before the script.
 */
export async function startService(
  env: Record<string, string> = {},
  options: { nodeArgs?: readonly string[]; script?: string } = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? EXAMPLE_SERVICE], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output: string[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, at: Date.now() };
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(line);
        if (m) resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`service exited (${code}) before listening:\n${output.join('\n')}`)),
    );
  });
  return { child, url, output, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}
