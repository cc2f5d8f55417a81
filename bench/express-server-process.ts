/** One express-server.ts variant in its own process, pinned to a CPU when the machine allows. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CAN_PIN } from './balancer-processes.ts';
import { trackChild } from './bench-process.ts';
import { preloadFor, type Variant } from './express-variants.ts';

const SERVER = fileURLToPath(new URL('./express-server.ts', import.meta.url));

export interface ExpressServerProcess {
  readonly variant: Variant;
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
}

/**
 * Starts a variant's server on `cpu` (unpinned without taskset) and resolves once it listens.
 * `env` adds to this process's environment (the SDK variants read their OTEL_* settings there).
 */
export async function startExpressServer(
  variant: Variant,
  cpu: number,
  env: Readonly<Record<string, string>> = {},
): Promise<ExpressServerProcess> {
  const args = [...preloadFor(variant), SERVER, variant];
  const options = {
    stdio: ['pipe', 'pipe', 'inherit'] as ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  };
  const child = CAN_PIN
    ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
  trackChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} server exited (${code}) before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^port (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return { variant, child, port, url: `http://127.0.0.1:${port}` };
}

export async function stopExpressServer(server: ExpressServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
