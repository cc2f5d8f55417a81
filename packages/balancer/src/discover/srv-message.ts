/**
 * The DNS wire format (RFC 1035) of one SRV question and its answer, read with their TTLs,
 * which Node's `resolveSrv` does not report. Reads only what it needs and refuses, by throwing
 * {@link MalformedDnsMessage}, anything out of bounds: a hostile or broken server cannot make
 * it loop, read past the message or hand back a name that is no host name.
 */

/** One SRV record of an answer (RFC 2782). */
export interface SrvRecord {
  /** Lower case, without the trailing dot; `''` for the root (`.`: "no such service here"). */
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
  /** Seconds. */
  readonly ttl: number;
}

/** What the server answered to the question. */
export interface SrvAnswer {
  /** 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ... */
  readonly rcode: number;
  /** The answer did not fit the UDP payload: ask again over TCP. Nothing else is read then. */
  readonly truncated: boolean;
  /** The SRV records of the name (or of the name its CNAMEs lead to). */
  readonly records: readonly SrvRecord[];
  /** Seconds: the shortest TTL of those records and the CNAMEs followed; undefined without records. */
  readonly ttl: number | undefined;
}

/** A message that is not a well-formed answer to the question asked. */
export class MalformedDnsMessage extends Error {
  readonly code = 'EBADRESP';
}

const TYPE_SRV = 33;
const TYPE_CNAME = 5;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const HEADER = 12;
// RFC 8020-era advice (DNS flag day 2020): a UDP payload that avoids IP fragmentation.
const UDP_PAYLOAD = 1232;
const MAX_NAME = 255;
const MAX_CNAMES = 8;
const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The query for `name`'s SRV records, recursion desired, with an EDNS0 OPT record. */
export function encodeSrvQuery(id: number, name: string): Buffer {
  const labels = splitName(name);
  const nameLength = labels.reduce((sum, label) => sum + 1 + label.length, 1);
  if (nameLength > MAX_NAME) throw new RangeError(`${name} is longer than 255 bytes`);
  const message = Buffer.alloc(HEADER + nameLength + 4 + 11);
  message.writeUInt16BE(id, 0);
  message.writeUInt16BE(0x0100, 2); // RD
  message.writeUInt16BE(1, 4); // QDCOUNT
  message.writeUInt16BE(1, 10); // ARCOUNT: the OPT record
  let at = HEADER;
  for (const label of labels) {
    message.writeUInt8(label.length, at);
    message.write(label, at + 1, 'ascii');
    at += 1 + label.length;
  }
  at += 1; // root label
  message.writeUInt16BE(TYPE_SRV, at);
  message.writeUInt16BE(CLASS_IN, at + 2);
  at += 4;
  at += 1; // OPT owner: root
  message.writeUInt16BE(TYPE_OPT, at);
  message.writeUInt16BE(UDP_PAYLOAD, at + 2);
  return message; // TTL (extended RCODE, version, flags) and RDLENGTH stay 0
}

/** The id of a message, or -1 if it is too short to have one. */
export function messageId(message: Buffer): number {
  return message.length >= 2 ? message.readUInt16BE(0) : -1;
}

/** Reads the answer to the SRV question for `name`; throws {@link MalformedDnsMessage}. */
export function readSrvAnswer(message: Buffer, name: string): SrvAnswer {
  if (message.length < HEADER) throw new MalformedDnsMessage('DNS answer shorter than its header');
  const flags = message.readUInt16BE(2);
  if ((flags & 0x8000) === 0 || (flags & 0x7800) !== 0) {
    throw new MalformedDnsMessage('DNS message is not an answer to a standard query');
  }
  const rcode = flags & 0x000f;
  if ((flags & 0x0200) !== 0) return { rcode, truncated: true, records: [], ttl: undefined };
  const questions = message.readUInt16BE(4);
  const answers = message.readUInt16BE(6);
  if (questions !== 1) throw new MalformedDnsMessage(`DNS answer has ${questions} questions, not 1`);
  const question = readName(message, HEADER);
  const wanted = splitName(name).join('.').toLowerCase();
  if (question.end + 4 > message.length) throw new MalformedDnsMessage('DNS question truncated');
  if (
    question.name !== wanted ||
    message.readUInt16BE(question.end) !== TYPE_SRV ||
    message.readUInt16BE(question.end + 2) !== CLASS_IN
  ) {
    throw new MalformedDnsMessage('DNS answer is for another question');
  }
  if (rcode !== 0) return { rcode, truncated: false, records: [], ttl: undefined };

  const srv: Array<SrvRecord & { owner: string }> = [];
  const cnames = new Map<string, { target: string; ttl: number }>();
  let at = question.end + 4;
  for (let i = 0; i < answers; i++) {
    const owner = readName(message, at);
    at = owner.end;
    if (at + 10 > message.length) throw new MalformedDnsMessage('DNS record truncated');
    const type = message.readUInt16BE(at);
    const klass = message.readUInt16BE(at + 2);
    const ttl = readTtl(message.readUInt32BE(at + 4));
    const length = message.readUInt16BE(at + 8);
    const data = at + 10;
    at = data + length;
    if (at > message.length) throw new MalformedDnsMessage('DNS record data truncated');
    if (klass !== CLASS_IN) continue;
    if (type === TYPE_SRV) {
      if (length < 7) throw new MalformedDnsMessage('SRV record data too short');
      const target = readName(message, data + 6);
      if (target.end !== at) throw new MalformedDnsMessage('SRV target overruns its record');
      srv.push({
        owner: owner.name,
        priority: message.readUInt16BE(data),
        weight: message.readUInt16BE(data + 2),
        port: message.readUInt16BE(data + 4),
        target: target.name,
        ttl,
      });
    } else if (type === TYPE_CNAME) {
      const target = readName(message, data);
      if (target.end !== at) throw new MalformedDnsMessage('CNAME target overruns its record');
      cnames.set(owner.name, { target: target.name, ttl });
    }
  }

  // The SRV records may belong to the end of a CNAME chain starting at the question.
  let owner = wanted;
  let ttl = Number.POSITIVE_INFINITY;
  for (let hops = 0; cnames.has(owner); hops++) {
    if (hops === MAX_CNAMES) throw new MalformedDnsMessage('DNS answer has a CNAME loop');
    const cname = cnames.get(owner)!;
    ttl = Math.min(ttl, cname.ttl);
    owner = cname.target;
  }
  const records: SrvRecord[] = [];
  for (const { owner: recordOwner, ...record } of srv) {
    if (recordOwner !== owner) continue;
    if (record.target !== '' && !isHostName(record.target)) {
      throw new MalformedDnsMessage('SRV target is not a host name');
    }
    records.push(record);
    ttl = Math.min(ttl, record.ttl);
  }
  return { rcode, truncated: false, records, ttl: records.length === 0 ? undefined : ttl };
}

/** Labels of a host name; a trailing dot is allowed. Throws on labels the wire cannot carry. */
function splitName(name: string): string[] {
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || !/^[\x21-\x7e]+$/.test(label)) {
      throw new RangeError(`${JSON.stringify(name)} is not a DNS name`);
    }
  }
  return labels;
}

/**
 * Reads a possibly compressed name at `offset`. Every pointer must point before the label it
 * sits in, so reading always ends; `end` is where the name ends at its own position.
 */
function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let length = 1;
  let at = offset;
  let end = -1;
  for (;;) {
    if (at >= message.length) throw new MalformedDnsMessage('DNS name runs past the message');
    const size = message[at]!;
    if (size === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((size & 0xc0) === 0xc0) {
      if (at + 1 >= message.length) throw new MalformedDnsMessage('DNS name pointer truncated');
      const target = ((size & 0x3f) << 8) | message[at + 1]!;
      if (target >= at) throw new MalformedDnsMessage('DNS name pointer does not point backwards');
      if (end < 0) end = at + 2;
      at = target;
      continue;
    }
    if ((size & 0xc0) !== 0) throw new MalformedDnsMessage('DNS name has an unknown label type');
    length += 1 + size;
    if (length > MAX_NAME) throw new MalformedDnsMessage('DNS name longer than 255 bytes');
    if (at + 1 + size > message.length) throw new MalformedDnsMessage('DNS label runs past the message');
    labels.push(message.toString('latin1', at + 1, at + 1 + size).toLowerCase());
    at += 1 + size;
  }
  return { name: labels.join('.'), end };
}

function isHostName(name: string): boolean {
  for (const label of name.split('.')) if (!HOST_LABEL.test(label)) return false;
  return true;
}

// RFC 2181 §8: a TTL with the top bit set is read as zero.
function readTtl(raw: number): number {
  return raw > 0x7fffffff ? 0 : raw;
}
