import type { BalancerConfig } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { DnsDiscovery } from './dns-discovery.ts';
import { StaticDiscovery } from './static-discovery.ts';

/**
 * The discovery the configuration asks for: DNS (`dns.name`), Kubernetes EndpointSlices
 * (`kubernetes.service`) or the static list (`backends`). The configuration is validated
 * already; Kubernetes discovery still throws `RK_ERR_INVALID_CONFIG` when it finds no
 * credentials.
 */
export async function createDiscovery(
  config: BalancerConfig,
  log: (line: string) => void,
): Promise<Discovery> {
  const { dns, kubernetes } = config;
  if (kubernetes.service !== undefined) {
    // Loaded only when asked for: @kubernetes/client-node takes about half a second to import.
    const { EndpointSliceDiscovery } = await import('./endpoint-slice-discovery.ts');
    return new EndpointSliceDiscovery({
      service: kubernetes.service,
      scheme: config.discoveryScheme,
      log,
      ...(kubernetes.port === undefined ? {} : { port: kubernetes.port }),
      ...(kubernetes.kubeconfig === undefined ? {} : { kubeconfig: kubernetes.kubeconfig }),
    });
  }
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
