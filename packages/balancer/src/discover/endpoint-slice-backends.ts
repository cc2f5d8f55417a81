import { isIP } from 'node:net';
import type { BackendSpec } from '../options.ts';

/** Which port of a slice the backends take: a port name, a port number, or the slice's only port. */
export type SlicePortChoice = string | number | undefined;

/** The backends of a Service's slices, and why some slices or endpoints were left out. */
export interface SliceBackends {
  /** Sorted by URL, one per address and port. */
  readonly backends: BackendSpec[];
  /** One line per slice left out or with endpoints left out, e.g. `slice api-x7k2p: no port named "http" (it has grpc 9000)`. */
  readonly skipped: string[];
}

type Fields = Readonly<Record<string, unknown>>;

/**
 * Maps the `discovery.k8s.io/v1` EndpointSlices of one Service (objects as the API server sends
 * them) to backends. Endpoint conditions follow the API's nil rules: `ready` nil is true,
 * `serving` nil is the same as `ready`, `terminating` nil is false. A ready endpoint is a backend;
 * one not ready but serving and terminating is a draining backend (no new requests, those in
 * flight finish); any other is left out. An endpoint's first address is used, as the API asks.
 * The same address and port in several slices (they overlap while the controller moves
 * endpoints) counts once, ready winning over draining. FQDN slices are left out: the
 * EndpointSlice controller only writes IPv4 and IPv6 ones.
 */
export function endpointSliceBackends(
  slices: Iterable<unknown>,
  port: SlicePortChoice,
  scheme: 'http' | 'https',
): SliceBackends {
  const chosen = new Map<string, BackendSpec>();
  const skipped: string[] = [];
  for (const slice of slices) {
    if (isFields(slice)) addSlice(slice, port, scheme, chosen, skipped);
  }
  const backends = [...chosen.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  return { backends, skipped };
}

function addSlice(
  slice: Fields,
  port: SlicePortChoice,
  scheme: 'http' | 'https',
  chosen: Map<string, BackendSpec>,
  skipped: string[],
): void {
  const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  // The controller keeps an empty placeholder slice for a Service without endpoints.
  if (endpoints.length === 0) return;
  const metadata = isFields(slice.metadata) ? slice.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
  const family = slice.addressType === 'IPv4' ? 4 : slice.addressType === 'IPv6' ? 6 : 0;
  if (family === 0) {
    skipped.push(
      `slice ${name}: addressType ${String(slice.addressType)} is not supported (IPv4 and IPv6 are)`,
    );
    return;
  }
  const portNumber = pickPort(slice.ports, port);
  if (typeof portNumber === 'string') {
    skipped.push(`slice ${name}: ${portNumber}`);
    return;
  }
  let bad = 0;
  let firstBad = '';
  for (const endpoint of endpoints) {
    const spec = isFields(endpoint) ? endpointSpec(endpoint, family, portNumber, scheme) : 'not an object';
    if (typeof spec === 'string') {
      if (bad++ === 0) firstBad = spec;
      continue;
    }
    if (spec === undefined) continue;
    const existing = chosen.get(spec.url);
    if (existing === undefined || (existing.draining === true && spec.draining !== true))
      chosen.set(spec.url, spec);
  }
  if (bad > 0) skipped.push(`slice ${name}: ${bad} endpoint${bad === 1 ? '' : 's'} left out (${firstBad})`);
}

/** The backend an endpoint gives, undefined when its conditions leave it out, or why it is malformed. */
function endpointSpec(
  endpoint: Fields,
  family: 4 | 6,
  port: number,
  scheme: 'http' | 'https',
): BackendSpec | undefined | string {
  const address = Array.isArray(endpoint.addresses) ? endpoint.addresses[0] : undefined;
  if (typeof address !== 'string' || isIP(address) !== family) {
    return `address ${JSON.stringify(address) ?? 'absent'} is not an IPv${family} address`;
  }
  const conditions = isFields(endpoint.conditions) ? endpoint.conditions : {};
  const ready = flag(conditions.ready) ?? true;
  const serving = flag(conditions.serving) ?? ready;
  const terminating = flag(conditions.terminating) ?? false;
  if (!ready && !(serving && terminating)) return undefined;
  // URL gives the origin in the form static backends have (compressed IPv6, default port dropped).
  const url = URL.parse(`${scheme}://${family === 6 ? `[${address}]` : address}:${port}`);
  if (url === null) return `address ${JSON.stringify(address)} does not fit in a URL`;
  return ready ? { url: url.origin, weight: 1 } : { url: url.origin, weight: 1, draining: true };
}

/** The chosen port's number, or why the slice has none to use. */
function pickPort(raw: unknown, wanted: SlicePortChoice): number | string {
  const ports = Array.isArray(raw) ? raw.filter(isFields) : [];
  if (ports.length === 0) return 'no ports';
  let port: Fields | undefined;
  if (wanted === undefined) {
    if (ports.length > 1)
      return `${ports.length} ports (${describePorts(ports)}): choose one with kubernetes.port`;
    port = ports[0];
  } else {
    port = ports.find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
    if (port === undefined) {
      const what = typeof wanted === 'number' ? `port ${wanted}` : `port named "${wanted}"`;
      return `no ${what} (it has ${describePorts(ports)})`;
    }
  }
  const number = port?.port;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65_535) {
    return `port ${describePort(port ?? {})} has no valid number`;
  }
  // The API's default protocol is TCP; UDP and SCTP ports cannot carry HTTP.
  const protocol = port?.protocol ?? 'TCP';
  if (protocol !== 'TCP') return `port ${describePort(port ?? {})} is ${String(protocol)}, not TCP`;
  return number;
}

function describePorts(ports: readonly Fields[]): string {
  return ports.map(describePort).join(', ');
}

function describePort(port: Fields): string {
  const name = typeof port.name === 'string' && port.name !== '' ? `${port.name} ` : '';
  return `${name}${String(port.port)}`;
}

function flag(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
