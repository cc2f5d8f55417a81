import { isIP } from 'node:net';
import { invalidConfig } from '../errors.ts';
import { type DnsServerAddress, readDnsServerAddress } from './dns-server-address.ts';

/** Which address records make backends: one family or both. */
export type AddressRecords = 'A' | 'AAAA' | 'A+AAAA';

/** Options of {@link DnsDiscovery}; every duration is in milliseconds. */
export interface DnsDiscoveryOptions {
  /**
   * What to resolve: `HOST:PORT` (address records of HOST, every address with PORT) or an SRV
   * name such as `_http._tcp.api.example` (targets, ports and weights from the SRV records).
   */
  name: string;
  /** @default `SRV` when `name` has no port, else `A+AAAA` */
  record?: AddressRecords | 'SRV';
  /** Address records the SRV targets resolve to (with `record: 'SRV'` only). @default `A+AAAA` */
  srvTargets?: AddressRecords;
  /** Scheme of the backend URLs. @default `http` */
  scheme?: 'http' | 'https';
  /** The DNS server, `IP` or `IP:PORT` (`[IPv6]:PORT`). @default the system's (resolv.conf) */
  resolver?: string;
  /** Shortest wait between resolutions, whatever the TTL (a TTL of 0 is common). @default 1000 */
  minTtl?: number;
  /** Longest wait between resolutions, whatever the TTL: changes reach the pool within it. @default 60000 */
  maxTtl?: number;
  /** How long the first try waits for the DNS server (c-ares lengthens later tries). @default 2000 */
  timeout?: number;
  /** Tries per query before the resolution counts as failed. @default 2 */
  tries?: number;
  /** One line per notable event: resolver failures, a kept set, an empty answer. @default none */
  log?: (line: string) => void;
}

/** {@link DnsDiscoveryOptions} checked and with defaults. */
export interface DnsDiscoveryConfig {
  /** As given (a trailing dot kept). */
  readonly name: string;
  readonly host: string;
  /** The port of `HOST:PORT` names; SRV records carry their own. */
  readonly port: number | undefined;
  readonly record: AddressRecords | 'SRV';
  /** What the host (address names) or the SRV targets resolve to. */
  readonly addressRecords: AddressRecords;
  readonly scheme: 'http' | 'https';
  readonly resolver: DnsServerAddress | undefined;
  readonly minTtl: number;
  readonly maxTtl: number;
  readonly timeout: number;
  readonly tries: number;
  readonly log: (line: string) => void;
}

const PREFIX = 'dns.';
const KEYS = new Set([
  'name',
  'record',
  'srvTargets',
  'scheme',
  'resolver',
  'minTtl',
  'maxTtl',
  'timeout',
  'tries',
  'log',
]);
const ADDRESS_RECORDS: readonly string[] = ['A', 'AAAA', 'A+AAAA'];
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const DAY = 86_400_000;

/** Checks the options once, at construction; throws `RK_ERR_INVALID_CONFIG` naming the option. */
export function readDnsDiscoveryOptions(options: DnsDiscoveryOptions): DnsDiscoveryConfig {
  if (options === null || typeof options !== 'object') {
    throw invalidConfig('dns', 'an object of options', options);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key))
      throw invalidConfig(`${PREFIX}${key}`, `absent (not an option of DNS discovery)`, key);
  }
  const record = options.record;
  if (record !== undefined && record !== 'SRV' && !ADDRESS_RECORDS.includes(record)) {
    throw invalidConfig(`${PREFIX}record`, 'one of A, AAAA, A+AAAA, SRV', record);
  }
  const { host, port } = readName(options.name, record);
  const srv = port === undefined;
  if (options.srvTargets !== undefined) {
    if (!srv) throw invalidConfig(`${PREFIX}srvTargets`, 'absent unless record is SRV', options.srvTargets);
    if (!ADDRESS_RECORDS.includes(options.srvTargets)) {
      throw invalidConfig(`${PREFIX}srvTargets`, 'one of A, AAAA, A+AAAA', options.srvTargets);
    }
  }
  const scheme = options.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https')
    throw invalidConfig(`${PREFIX}scheme`, 'http or https', scheme);
  let resolver: DnsServerAddress | undefined;
  if (options.resolver !== undefined) {
    resolver = typeof options.resolver === 'string' ? readDnsServerAddress(options.resolver) : undefined;
    if (resolver === undefined) {
      throw invalidConfig(`${PREFIX}resolver`, 'IP or IP:PORT ([IPv6]:PORT), port 1-65535', options.resolver);
    }
  }
  const minTtl = readMs('minTtl', options.minTtl, 1000, 100, 3_600_000);
  const maxTtl = readMs('maxTtl', options.maxTtl, Math.max(60_000, minTtl), minTtl, DAY);
  const timeout = readMs('timeout', options.timeout, 2000, 10, 60_000);
  const tries = options.tries ?? 2;
  if (typeof tries !== 'number' || !Number.isInteger(tries) || tries < 1 || tries > 10) {
    throw invalidConfig(`${PREFIX}tries`, 'a whole number from 1 to 10', tries);
  }
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw invalidConfig(`${PREFIX}log`, 'a function', options.log);
  }
  return {
    name: options.name,
    host,
    port,
    record: record ?? (srv ? 'SRV' : 'A+AAAA'),
    addressRecords: srv ? (options.srvTargets ?? 'A+AAAA') : ((record as AddressRecords) ?? 'A+AAAA'),
    scheme,
    resolver,
    minTtl,
    maxTtl,
    timeout,
    tries,
    log: options.log ?? (() => {}),
  };
}

function readName(name: unknown, record: string | undefined): { host: string; port: number | undefined } {
  const key = `${PREFIX}name`;
  if (typeof name !== 'string')
    throw invalidConfig(key, 'a DNS name, HOST:PORT or _service._proto.name', name);
  const colon = name.lastIndexOf(':');
  if (record === 'SRV' || (record === undefined && colon < 0)) {
    if (!isDnsName(name))
      throw invalidConfig(key, 'a DNS name such as _http._tcp.api.example (no port)', name);
    return { host: name, port: undefined };
  }
  const host = name.slice(0, colon);
  const port = /^\d{1,5}$/.test(name.slice(colon + 1)) ? Number(name.slice(colon + 1)) : 0;
  if (colon < 0 || !isDnsName(host) || port < 1 || port > 65_535) {
    throw invalidConfig(key, `HOST:PORT for ${record ?? 'A+AAAA'} records (a DNS name, port 1-65535)`, name);
  }
  return { host, port };
}

// A name to look up, not an IP literal: an address needs no discovery.
function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253 || isIP(bare) !== 0 || /^[\d.]+$/.test(bare)) return false;
  return bare.split('.').every((label) => LABEL.test(label));
}

function readMs(option: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < min || raw > max) {
    throw invalidConfig(`${PREFIX}${option}`, `a number of milliseconds from ${min} to ${max}`, raw);
  }
  return raw;
}
