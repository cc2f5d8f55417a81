import type { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { BackendSpec } from '../options.ts';
import type { AddressRecords, DnsDiscoveryConfig } from './dns-discovery-options.ts';
import { readDnsServerAddress } from './dns-server-address.ts';
import { querySrv } from './srv-query.ts';

/** The backends one resolution found. */
export interface BackendLookup {
  /** Sorted by URL; empty when the name does not exist or has no records. */
  readonly backends: readonly BackendSpec[];
  /** Seconds: the shortest TTL of every record used; undefined without records. */
  readonly ttl: number | undefined;
}

interface TimedAddress {
  readonly address: string;
  readonly ttl: number;
}

const MAX_WEIGHT = 1000;
// c-ares' codes for NXDOMAIN and NODATA: answers saying "nothing here", not failures.
const NOTHING_HERE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Resolves the configured name into backends once. Any failure (timeout, SERVFAIL, REFUSED,
 * network, malformed answer) of any query, including an SRV target's, rejects: a partial set
 * must not replace a good one.
 */
export async function lookupBackends(
  config: DnsDiscoveryConfig,
  resolver: Resolver,
  signal: AbortSignal,
): Promise<BackendLookup> {
  if (config.port !== undefined) {
    const addresses = await resolveAddresses(resolver, config.host, config.addressRecords);
    const backends = new Map<string, number>();
    for (const { address } of addresses) backends.set(originOf(config.scheme, address, config.port), 1);
    return { backends: sortedSpecs(backends), ttl: shortestTtl(addresses) };
  }
  const servers =
    config.resolver !== undefined
      ? [config.resolver]
      : resolver.getServers().flatMap((text) => readDnsServerAddress(text) ?? []);
  const srv = await querySrv(config.host, {
    servers,
    timeout: config.timeout,
    tries: config.tries,
    signal,
  });
  // A target of "." says the service is decidedly not offered at this name (RFC 2782).
  const offered = srv.records.filter((record) => record.target !== '');
  // Only the lowest priority value is used: the balancer's own checks, not DNS, fail over.
  const priority = Math.min(...offered.map((record) => record.priority));
  const chosen = offered.filter((record) => record.priority === priority);
  const weights = balancerWeights(chosen.map((record) => record.weight));
  const targets = [...new Set(chosen.map((record) => record.target))];
  const resolved = await Promise.all(
    targets.map((target) => resolveAddresses(resolver, target, config.addressRecords)),
  );
  const addressesOf = new Map(targets.map((target, i) => [target, resolved[i]!]));
  const backends = new Map<string, number>();
  let ttl = srv.ttl;
  chosen.forEach((record, i) => {
    const addresses = addressesOf.get(record.target)!;
    ttl = minTtl(ttl, shortestTtl(addresses));
    // Each address of a target gets the record's weight; the same endpoint named twice adds up.
    for (const { address } of addresses) {
      const origin = originOf(config.scheme, address, record.port);
      backends.set(origin, Math.min(MAX_WEIGHT, (backends.get(origin) ?? 0) + weights[i]!));
    }
  });
  return { backends: sortedSpecs(backends), ttl: backends.size === 0 ? undefined : ttl };
}

/**
 * SRV weights (0-65535) on the balancer's 1-1000 scale, keeping their proportions: as they are
 * when all fit (the usual small weights), else scaled so the largest is 1000. A weight of 0
 * ("rarely") becomes 1, the balancer's least.
 */
export function balancerWeights(srvWeights: readonly number[]): number[] {
  const largest = Math.max(0, ...srvWeights);
  const scale = largest > MAX_WEIGHT ? MAX_WEIGHT / largest : 1;
  return srvWeights.map((weight) => Math.max(1, Math.round(weight * scale)));
}

async function resolveAddresses(
  resolver: Resolver,
  host: string,
  records: AddressRecords,
): Promise<readonly TimedAddress[]> {
  const [v4, v6] = await Promise.all([
    records === 'AAAA' ? [] : answered(resolver.resolve4(host, { ttl: true })),
    records === 'A' ? [] : answered(resolver.resolve6(host, { ttl: true })),
  ]);
  return v4.length === 0 ? v6 : v6.length === 0 ? v4 : [...v4, ...v6];
}

async function answered(query: Promise<TimedAddress[]>): Promise<readonly TimedAddress[]> {
  try {
    return await query;
  } catch (error) {
    if (NOTHING_HERE.has((error as { code?: string }).code ?? '')) return [];
    throw error;
  }
}

function originOf(scheme: string, address: string, port: number): string {
  return new URL(`${scheme}://${isIP(address) === 6 ? `[${address}]` : address}:${port}`).origin;
}

function sortedSpecs(weights: ReadonlyMap<string, number>): BackendSpec[] {
  return [...weights]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([url, weight]) => ({ url, weight }));
}

function shortestTtl(addresses: readonly TimedAddress[]): number | undefined {
  let ttl: number | undefined;
  for (const address of addresses) ttl = minTtl(ttl, address.ttl);
  return ttl;
}

function minTtl(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
