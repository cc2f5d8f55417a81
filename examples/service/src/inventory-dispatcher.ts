import { type BalancedDispatcher, createBalancedDispatcher } from '@readykit/balancer';
import type { Readykit } from '@readykit/express';
import type { ServiceConfig } from './config.ts';

/**
 * With INVENTORY_BACKENDS set, the inventory calls are balanced in this process, call by call,
 * over those backends: readiness-checked (a draining instance's 503 takes it out at once),
 * retried elsewhere when idempotent, reported on the service's own `/metrics`. Without it:
 * undefined, and the calls go to INVENTORY_URL as a plain fetch would (one address, e.g. a
 * Kubernetes Service, whose connections pin each caller to whichever pods they reached).
 */
export function createInventoryDispatcher(
  config: ServiceConfig,
  kit: Readykit,
  log: (line: string) => void,
): BalancedDispatcher | undefined {
  if (config.inventoryUrl === undefined || config.inventoryBackends === undefined) return undefined;
  const dispatcher = createBalancedDispatcher({
    origin: config.inventoryUrl.origin,
    backends: config.inventoryBackends,
    ...(kit.metrics === undefined ? {} : { registry: kit.metrics.registry }),
    ...(config.inventoryCheckIntervalMs === undefined
      ? {}
      : { healthCheck: { interval: config.inventoryCheckIntervalMs } }),
    log,
  });
  // Hooks run once requests have drained, so no call of ours is still using it.
  kit.onShutdown('inventory-dispatcher', { hook: () => dispatcher.close(), timeout: 2000 });
  return dispatcher;
}
