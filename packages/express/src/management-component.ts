import { createProfiling, type ManagementHandler, ManagementServer, type Metrics } from '@readykit/metrics';
import type { KitComponent } from './kit-component.ts';

export interface ManagementOptions {
  /** Port of the management listener (0: any free port). */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Serve `/debug/profile` and `/debug/heapsnapshot` there; off unless enabled. @default false */
  profiling?: boolean | { maxSeconds?: number };
}

/**
 * Serves `/metrics` (and, when enabled, profiling) on a listener of its own, so management
 * routes stay off the public one. It opens when the kit attaches to the app's server and
 * closes last, after requests have drained, so scrapes keep working during a shutdown.
 */
export function managementComponent(
  options: ManagementOptions,
  metrics: Metrics | undefined,
): KitComponent & { readonly server: ManagementServer; close(): Promise<void> } {
  const handlers: ManagementHandler[] = [];
  if (metrics !== undefined) handlers.push((req, res) => metrics.handle(req, res));
  if (options.profiling !== undefined && options.profiling !== false) {
    handlers.push(createProfiling(options.profiling === true ? {} : options.profiling));
  }
  const server = new ManagementServer({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    handlers,
  });
  let opened = false;
  return {
    name: 'management',
    server,
    attach: () => {
      if (opened) return;
      opened = true;
      server
        .listen()
        .catch((error: unknown) =>
          process.emitWarning(`readykit management listener failed: ${String(error)}`, 'ReadykitWarning'),
        );
    },
    close: () => server.close(),
  };
}
