import { BlockList, isIP, isIPv4 } from 'node:net';
import { invalidConfig } from '../errors.ts';
import { isValidHost } from './host-header.ts';

/**
 * The headers {@link ForwardedHeaders} writes, lowercase: drop them from the forwarded copy of
 * the incoming headers (see `HeaderNameSet`), or the backend sees the client's values too.
 */
export const FORWARDED_HEADERS: readonly string[] = Object.freeze([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

export interface ForwardedHeadersOptions {
  /**
   * Peers (the TCP address a request comes from) whose `Forwarded` and `X-Forwarded-*` headers
   * are believed: IPv4 and IPv6 addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). An
   * IPv4-mapped peer (`::ffff:10.1.2.3`, from a dual-stack listener) matches IPv4 entries.
   * @default [] (trust nobody: every client could write any address into these headers)
   */
  trustedProxies?: readonly string[];
}

/** What {@link ForwardedHeaders.write} reads of a request; `IncomingMessage` has all of it. */
export interface ForwardedRequest {
  readonly rawHeaders: readonly string[];
  readonly socket: {
    readonly remoteAddress?: string | undefined;
    /** True on a TLS socket (`tls.TLSSocket`). */
    readonly encrypted?: boolean;
  };
}

const MAPPED_PREFIX = '::ffff:';

/**
 * Writes `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and RFC 7239 `Forwarded`
 * for one hop. From a trusted peer, the incoming values are kept: the peer is appended to
 * `X-Forwarded-For` and this hop's element to `Forwarded`, and a valid incoming proto and host
 * win over this hop's (they describe the original request). From any other peer, incoming
 * values are dropped and replaced by what this hop saw. The host comes from the `Host` header
 * and is written only when it is a valid `host[:port]`. IPv4-mapped peers are written as IPv4.
 */
export class ForwardedHeaders {
  /** The resolved list, as given. */
  readonly trustedProxies: readonly string[];
  readonly #trusted: BlockList | undefined;

  constructor(options: ForwardedHeadersOptions = {}) {
    const list = options.trustedProxies ?? [];
    if (!Array.isArray(list))
      throw invalidConfig('trustedProxies', 'a list of IP addresses or CIDR ranges', list);
    const blockList = new BlockList();
    for (const [i, entry] of (list as unknown[]).entries())
      addEntry(blockList, entry, `trustedProxies[${i}]`);
    this.trustedProxies = Object.freeze([...list]);
    this.#trusted = list.length > 0 ? blockList : undefined;
  }

  /** Whether the forwarding headers of a request from this peer address are believed. */
  isTrusted(peer: string | undefined): boolean {
    if (this.#trusted === undefined || peer === undefined) return false;
    return this.#trusted.check(peer, peer.includes(':') ? 'ipv6' : 'ipv4');
  }

  /**
   * Appends the four headers to `out` as flat `name, value` pairs, for a request as Node gives
   * it: the raw headers, the TCP peer (`socket.remoteAddress`; `undefined` once the socket is
   * gone, when no address is written and `Forwarded` says `for=unknown`) and the listener's
   * scheme (`https` when the socket is TLS).
   */
  write(req: ForwardedRequest, out: string[]): void {
    const raw = req.rawHeaders;
    const peer = req.socket.remoteAddress;
    const proto = req.socket.encrypted === true ? 'https' : 'http';
    const trusted = this.isTrusted(peer);
    let host: string | undefined;
    let hosts = 0;
    let forwarded: string | undefined;
    let forwardedFor: string | undefined;
    let forwardedHost: string | undefined;
    let forwardedProto: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const length = name.length;
      // host 4, forwarded 9, x-forwarded-for 15, -host 16, -proto 17: skip the rest unread.
      if (length === 4) {
        if (name.toLowerCase() === 'host') {
          host = raw[i + 1]!;
          hosts++;
        }
        continue;
      }
      if (!trusted || (length !== 9 && (length < 15 || length > 17))) continue;
      const lower = name.toLowerCase();
      const value = raw[i + 1]!;
      if (lower === 'forwarded') forwarded = join(forwarded, value);
      else if (lower === 'x-forwarded-for') forwardedFor = join(forwardedFor, value);
      else if (lower === 'x-forwarded-host') forwardedHost = join(forwardedHost, value);
      else if (lower === 'x-forwarded-proto') forwardedProto = join(forwardedProto, value);
    }
    const client = peer === undefined ? undefined : unmapped(peer);
    const hopHost = hosts === 1 && host !== undefined && isValidHost(host) ? host : undefined;

    const forwardedFors = client === undefined ? forwardedFor : join(forwardedFor, client);
    if (forwardedFors !== undefined) out.push('x-forwarded-for', forwardedFors);
    out.push('x-forwarded-proto', (forwardedProto !== undefined && schemeOf(forwardedProto)) || proto);
    const originalHost = forwardedHost?.trim();
    const xForwardedHost = originalHost !== undefined && isValidHost(originalHost) ? originalHost : hopHost;
    if (xForwardedHost !== undefined) out.push('x-forwarded-host', xForwardedHost);
    out.push('forwarded', join(forwarded, forwardedElement(client, proto, hopHost)));
  }
}

function addEntry(blockList: BlockList, entry: unknown, key: string): void {
  const expected = 'an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8';
  if (typeof entry !== 'string') throw invalidConfig(key, expected, entry);
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) throw invalidConfig(key, expected, entry);
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) {
    blockList.addAddress(address, type);
    return;
  }
  const prefix = entry.slice(slash + 1);
  const bits = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) throw invalidConfig(key, expected, entry);
  blockList.addSubnet(address, Number(prefix), type);
}

function join(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/** `::ffff:10.1.2.3` as `10.1.2.3`: the form backends and log parsers expect. */
function unmapped(peer: string): string {
  // Node writes socket addresses in lowercase.
  if (!peer.startsWith(MAPPED_PREFIX)) return peer;
  const v4 = peer.slice(MAPPED_PREFIX.length);
  return isIPv4(v4) ? v4 : peer;
}

/** A trusted `X-Forwarded-Proto` when it is exactly one known scheme, lowercase; else undefined. */
function schemeOf(value: string): 'http' | 'https' | undefined {
  const scheme = value.trim().toLowerCase();
  return scheme === 'http' || scheme === 'https' ? scheme : undefined;
}

/**
 * This hop's `Forwarded` element (RFC 7239): `for=` the peer, quoted and bracketed when IPv6;
 * `proto=`; `host=`, quoted when it has a port or is an IPv6 literal (`:` and `[` are not
 * token characters).
 */
function forwardedElement(client: string | undefined, proto: string, host: string | undefined): string {
  const node = client === undefined ? 'unknown' : client.includes(':') ? `"[${client}]"` : client;
  const element = `for=${node};proto=${proto}`;
  if (host === undefined) return element;
  return isToken(host) ? `${element};host=${host}` : `${element};host="${host}"`;
}

function isToken(host: string): boolean {
  // A valid host holds only letters, digits, - . _ : [ ]; the last three are not tchars.
  return !host.includes(':') && !host.includes('[');
}
