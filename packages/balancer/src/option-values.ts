import { isIP } from 'node:net';
import { ALGORITHM_NAMES, type AlgorithmName } from './balance/candidate.ts';
import { invalidConfig } from './errors.ts';
import type { OptionSpec } from './option-table.ts';

/** A listener address. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** One backend as configured or discovered. */
export interface BackendSpec {
  /** The backend's origin, e.g. `http://10.0.0.7:3000` (no path, query or credentials). */
  readonly url: string;
  /** Relative share of traffic, 1-1000. */
  readonly weight: number;
  /**
   * Discovery says the backend is going away but still serves (a Kubernetes endpoint that is
   * terminating and serving): no new requests; requests in flight finish. @default false
   */
  readonly draining?: boolean;
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const DURATION = /^(\d{1,9}(?:\.\d{1,3})?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_WEIGHT = 1000;
const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}\\.?$)${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`);
const SRV_NAME = new RegExp(`^_[A-Za-z0-9-]{1,62}\\._(?:tcp|udp)\\.${DNS_LABEL}(?:\\.${DNS_LABEL})*\\.?$`);
const K8S_NAME = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const SERVICE = new RegExp(`^(?:${K8S_NAME}/)?${K8S_NAME}$`);
const PORT_NAME = /^[a-z0-9](?:[-a-z0-9]{0,13}[a-z0-9])?$/;

/**
 * Reads one setting's raw value (a flag string, or whatever YAML produced) into its typed form,
 * or throws a one-line `RK_ERR_INVALID_CONFIG` naming the key.
 */
export function readOptionValue(spec: OptionSpec, raw: unknown): unknown {
  const key = spec.key;
  switch (spec.kind) {
    case 'address':
      return readAddress(key, raw);
    case 'backends':
      return listOf(raw).map((item, i) => readBackend(`${key}[${i}]`, item));
    case 'algorithm':
      if (typeof raw !== 'string' || !(ALGORITHM_NAMES as readonly string[]).includes(raw)) {
        throw invalidConfig(key, `one of ${ALGORITHM_NAMES.join(', ')}`, raw);
      }
      return raw as AlgorithmName;
    case 'duration':
      return readDuration(key, raw, spec.min ?? 0, spec.max ?? 86_400_000);
    case 'count':
      return readInteger(key, raw, spec.min ?? 0, spec.max ?? Number.MAX_SAFE_INTEGER);
    case 'percent': {
      const min = spec.min ?? 0;
      return readNumber(key, raw, min, 100, `a percentage from ${min} to 100`);
    }
    case 'ratio': {
      const min = spec.min ?? 0;
      const max = spec.max ?? 1;
      return readNumber(key, raw, min, max, `a number from ${min} to ${max}`);
    }
    case 'header':
      if (typeof raw !== 'string' || !TOKEN.test(raw)) throw invalidConfig(key, 'an HTTP header name', raw);
      return raw.toLowerCase();
    case 'cookie':
      if (typeof raw !== 'string' || !TOKEN.test(raw)) throw invalidConfig(key, 'a cookie name', raw);
      return raw;
    case 'path':
      if (typeof raw !== 'string' || !/^\/[^\s?#]*$/.test(raw) || raw.length > 256) {
        throw invalidConfig(key, 'a URL path starting with "/" without query or spaces', raw);
      }
      return raw;
    case 'cidrs':
      return listOf(raw).map((item, i) => readCidr(`${key}[${i}]`, item));
    case 'boolean':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      throw invalidConfig(key, 'true or false', raw);
    case 'secret':
      // Printable ASCII without spaces: what fits in `Authorization: Bearer`. Never echoed.
      if (typeof raw !== 'string' || !/^[!-~]{16,512}$/.test(raw)) {
        throw invalidConfig(key, '16 to 512 printable ASCII characters without spaces', '(hidden)');
      }
      return raw;
    case 'dnsTarget':
      return readDnsTarget(key, raw);
    case 'service':
      if (typeof raw !== 'string' || !SERVICE.test(raw)) {
        throw invalidConfig(key, 'a Service as [NAMESPACE/]NAME (lowercase DNS labels)', raw);
      }
      return raw;
    case 'portRef':
      if (typeof raw === 'number' || (typeof raw === 'string' && /^\d{1,5}$/.test(raw))) {
        const port = Number(raw);
        if (Number.isInteger(port) && port >= 1 && port <= 65_535) return port;
      } else if (typeof raw === 'string' && PORT_NAME.test(raw) && /[a-z]/.test(raw)) {
        return raw;
      }
      throw invalidConfig(
        key,
        'a port number (1-65535) or port name (lowercase, at most 15 characters)',
        raw,
      );
    case 'file':
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > 4096 || raw.includes('\0')) {
        throw invalidConfig(key, 'a file path', raw);
      }
      return raw;
    case 'scheme':
      if (raw !== 'http' && raw !== 'https') throw invalidConfig(key, 'http or https', raw);
      return raw;
  }
}

function listOf(raw: unknown): unknown[] {
  return Array.isArray(raw) ? raw : [raw];
}

function readAddress(key: string, raw: unknown): Address {
  if (typeof raw !== 'string') throw invalidConfig(key, 'HOST:PORT', raw);
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(raw);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port > 65_535)
    throw invalidConfig(key, 'HOST:PORT (IPv6 in brackets, port 0-65535)', raw);
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined && isIP(host) !== 6)
    throw invalidConfig(key, 'HOST:PORT with a valid IPv6 address', raw);
  return { host, port };
}

/**
 * What `dns.name` accepts: `_service._proto.name` (SRV) or `host:port` (A and AAAA), where
 * host is a DNS name or an IP address (a fixed address is allowed, for tests and one-off use).
 */
function readDnsTarget(key: string, raw: unknown): string {
  if (typeof raw === 'string' && raw.length <= 260) {
    if (SRV_NAME.test(raw)) return raw;
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw);
    const port = m === null ? 0 : Number(m[3]);
    const host = m?.[1] ?? m?.[2];
    if (host !== undefined && port >= 1 && port <= 65_535 && (HOST_NAME.test(host) || isIP(host) !== 0))
      return raw;
  }
  throw invalidConfig(key, 'HOST:PORT (A and AAAA records) or _service._proto.NAME (SRV records)', raw);
}

/** `URL`, `URL weight=N` (a flag or a YAML string) or `{ url, weight }` (YAML). */
export function readBackend(key: string, raw: unknown): BackendSpec {
  let url: unknown = raw;
  let weight: unknown = 1;
  if (typeof raw === 'string') {
    const parts = raw.trim().split(/[\s,]+/);
    url = parts[0];
    for (const part of parts.slice(1)) {
      const m = /^weight=(\d{1,4})$/.exec(part);
      if (m === null) throw invalidConfig(key, 'URL optionally followed by weight=N', raw);
      weight = Number(m[1]);
    }
  } else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const entry = raw as Record<string, unknown>;
    for (const k of Object.keys(entry)) {
      if (k !== 'url' && k !== 'weight')
        throw invalidConfig(`${key}.${k}`, 'absent (a backend has url and weight)', k);
    }
    url = entry.url;
    weight = entry.weight ?? 1;
  }
  const parsed = typeof url === 'string' ? URL.parse(url) : null;
  if (
    parsed === null ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    parsed.search !== '' ||
    parsed.hash !== '' ||
    parsed.pathname !== '/'
  ) {
    throw invalidConfig(
      key,
      'an http(s) origin such as http://10.0.0.7:3000 (no path, query or credentials)',
      url,
    );
  }
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw invalidConfig(`${key}.weight`, `a whole number from 1 to ${MAX_WEIGHT}`, weight);
  }
  return { url: parsed.origin, weight };
}

function readDuration(key: string, raw: unknown, min: number, max: number): number {
  let ms: number | undefined;
  if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string') {
    const m = DURATION.exec(raw.trim());
    if (m !== null) ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < min || ms > max) {
    throw invalidConfig(
      key,
      `a duration from ${min} ms to ${max} ms (a number of ms, or with a unit: 500ms, 2s, 1m)`,
      raw,
    );
  }
  return ms;
}

function readInteger(key: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw invalidConfig(key, `a whole number from ${min} to ${max}`, raw);
  }
  return n;
}

function readNumber(key: string, raw: unknown, min: number, max: number, expected: string): number {
  const n = typeof raw === 'string' && /^\d{1,9}(\.\d{1,9})?$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max)
    throw invalidConfig(key, expected, raw);
  return n;
}

function readCidr(key: string, raw: unknown): string {
  if (typeof raw === 'string') {
    const [address, bits, extra] = raw.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (
      family !== 0 &&
      extra === undefined &&
      (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits))
    ) {
      return raw;
    }
  }
  throw invalidConfig(key, 'an IP address or CIDR such as 10.0.0.0/8', raw);
}
