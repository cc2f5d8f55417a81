/** One express-server.ts variant in its own process, pinned to a CPU when the machine allows. */
import { fileURLToPath } from 'node:url';
import { type BenchProcess, startProcess } from './balancer-processes.ts';
import { preloadFor, type Variant } from './express-variants.ts';

const SERVER = fileURLToPath(new URL('./express-server.ts', import.meta.url));

export interface ExpressServerProcess {
  readonly variant: Variant;
  readonly process: BenchProcess;
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
  const started = await startProcess(process.execPath, [...preloadFor(variant), SERVER, variant], {
    label: `${variant} server`,
    cpu,
    env,
    ready: /^port (\d+)$/,
  });
  const port = Number(started.match![1]);
  return { variant, process: started, port, url: `http://127.0.0.1:${port}` };
}

export function stopExpressServer(server: ExpressServerProcess): Promise<void> {
  return server.process.stop();
}
