import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { type DnsServerAddress, formatDnsServerAddress } from './dns-server-address.ts';
import { encodeSrvQuery, messageId, readSrvAnswer, type SrvRecord } from './srv-message.ts';

/** The SRV records of a name with their shortest TTL; no records for NXDOMAIN and NODATA. */
export interface SrvLookup {
  readonly records: readonly SrvRecord[];
  /** Seconds; undefined without records. */
  readonly ttl: number | undefined;
}

/** How {@link querySrv} asks. */
export interface SrvQueryOptions {
  readonly servers: readonly DnsServerAddress[];
  /** Milliseconds one try waits for an answer. */
  readonly timeout: number;
  /** Rounds over every server before giving up. */
  readonly tries: number;
  readonly signal: AbortSignal;
}

/** Why a query got no usable answer; `code` follows Node's `dns` codes (ETIMEOUT, ESERVFAIL, ...). */
export class DnsQueryError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'DnsQueryError';
    this.code = code;
  }
}

const RCODE_ERRORS: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 4: 'ENOTIMP', 5: 'EREFUSED' };
const NXDOMAIN = 3;

/**
 * Asks for `name`'s SRV records over UDP, again over TCP when the answer was truncated, trying
 * each server in turn `tries` times. NXDOMAIN and NODATA are answers (no records); SERVFAIL,
 * REFUSED, timeouts, network errors and malformed answers are failures, thrown as
 * {@link DnsQueryError} once every try failed.
 */
export async function querySrv(name: string, options: SrvQueryOptions): Promise<SrvLookup> {
  if (options.servers.length === 0) throw new DnsQueryError('ENOSERVERS', 'no DNS server configured');
  let last: unknown;
  for (let round = 0; round < options.tries; round++) {
    for (const server of options.servers) {
      options.signal.throwIfAborted();
      try {
        return await askOnce(name, server, options);
      } catch (error) {
        if (options.signal.aborted) throw error;
        last = error;
      }
    }
  }
  throw last;
}

async function askOnce(name: string, server: DnsServerAddress, options: SrvQueryOptions): Promise<SrvLookup> {
  const id = randomInt(0x10000);
  const query = encodeSrvQuery(id, name);
  let answer = readSrvAnswer(await exchangeUdp(server, query, id, options), name);
  if (answer.truncated) answer = readSrvAnswer(await exchangeTcp(server, query, id, options), name);
  if (answer.truncated) throw new DnsQueryError('EBADRESP', 'DNS answer over TCP is truncated');
  if (answer.rcode === 0) return { records: answer.records, ttl: answer.ttl };
  if (answer.rcode === NXDOMAIN) return { records: [], ttl: undefined };
  const code = RCODE_ERRORS[answer.rcode] ?? 'EBADRESP';
  throw new DnsQueryError(code, `${formatDnsServerAddress(server)} answered rcode ${answer.rcode}`);
}

/** One datagram out, the first one back with our id (a connected socket hears only the server). */
function exchangeUdp(
  server: DnsServerAddress,
  query: Buffer,
  id: number,
  options: SrvQueryOptions,
): Promise<Buffer> {
  const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  return settleWithin(server, options, (resolve, reject) => {
    socket.on('error', reject);
    socket.on('message', (message) => {
      if (messageId(message) === id) resolve(message);
    });
    socket.connect(server.port, server.host, (error?: Error) => {
      if (error) reject(error);
      else socket.send(query, (sendError) => sendError && reject(sendError));
    });
    return () => socket.close();
  });
}

/** The same query with the two-byte length prefix of DNS over TCP (RFC 1035 §4.2.2). */
function exchangeTcp(
  server: DnsServerAddress,
  query: Buffer,
  id: number,
  options: SrvQueryOptions,
): Promise<Buffer> {
  const socket = connect({ host: server.host, port: server.port });
  return settleWithin(server, options, (resolve, reject) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.concat([prefix, query])));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const message = received.subarray(2, 2 + length);
      if (messageId(message) === id) resolve(message);
      else reject(new DnsQueryError('EBADRESP', 'DNS answer over TCP has another id'));
    });
    socket.on('end', () => reject(new DnsQueryError('EBADRESP', 'DNS server closed before answering')));
    return () => socket.destroy();
  });
}

/**
 * Runs `start` until it resolves or rejects, the try times out or the signal aborts, then
 * releases what it opened; errors become {@link DnsQueryError}s naming the server.
 */
function settleWithin(
  server: DnsServerAddress,
  options: SrvQueryOptions,
  start: (resolve: (message: Buffer) => void, reject: (error: unknown) => void) => () => void,
): Promise<Buffer> {
  const where = formatDnsServerAddress(server);
  return new Promise<Buffer>((resolve, reject) => {
    let release: (() => void) | undefined;
    let settled = false;
    const finish = (error: unknown, message?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      release?.();
      if (message !== undefined) resolve(message);
      else reject(asQueryError(error, where));
    };
    const onAbort = () => finish(new DnsQueryError('ECANCELLED', 'DNS query cancelled'));
    const timer = setTimeout(
      () => finish(new DnsQueryError('ETIMEOUT', `${where} did not answer within ${options.timeout} ms`)),
      options.timeout,
    );
    timer.unref();
    options.signal.addEventListener('abort', onAbort, { once: true });
    release = start(
      (message) => finish(undefined, message),
      (error) => finish(error),
    );
    if (settled) release();
  });
}

function asQueryError(error: unknown, where: string): DnsQueryError {
  if (error instanceof DnsQueryError) return error;
  const code = (error as { code?: unknown })?.code;
  return new DnsQueryError(
    typeof code === 'string' ? code : 'EBADRESP',
    `${where}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
