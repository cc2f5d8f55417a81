import type { BalancerConfig } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { DnsDiscovery } from './dns-discovery.ts';
import { StaticDiscovery } from './static-discovery.ts';

/**
 * The discovery the configuration asks for: DNS (`dns.name`), Kubernetes EndpointSlices
 * (`kubernetes.service`) or the static list (`backends`). The configuration is validated
 * already, so only the discoveries' own checks (none expected) can throw here.
 */
export function createDiscovery(config: BalancerConfig, log: (line: string) => void): Discovery {
  const { dns } = config;
  if (dns.name !== undefined) {
    const resolver = dns.resolver;
    return new DnsDiscovery({
      name: dns.name,
      scheme: config.discoveryScheme,
      minTtl: dns.minTtl,
      maxTtl: dns.maxTtl,
      log,
      ...(resolver === undefined
        ? {}
        : {
            resolver: resolver.host.includes(':')
              ? `[${resolver.host}]:${resolver.port}`
              : `${resolver.host}:${resolver.port}`,
          }),
    });
  }
  return new StaticDiscovery(config.backends);
}
