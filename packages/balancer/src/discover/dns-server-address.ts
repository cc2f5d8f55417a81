import { isIP } from 'node:net';

/** A DNS server to send queries to. */
export interface DnsServerAddress {
  /** An IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/**
 * Reads a DNS server address in the forms Node's `Resolver.setServers()` accepts and
 * `getServers()` returns: `10.0.0.2`, `10.0.0.2:5353`, `::1`, `[::1]:5353`. Undefined if it is
 * none of them (host names are not allowed: a resolver cannot need a resolver).
 */
export function readDnsServerAddress(text: string): DnsServerAddress | undefined {
  if (isIP(text) !== 0) return { host: text, port: 53 };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  const family = isIP(host);
  if ((m[1] !== undefined ? family !== 6 : family !== 4) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** The form `setServers()` takes back. */
export function formatDnsServerAddress(server: DnsServerAddress): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}
