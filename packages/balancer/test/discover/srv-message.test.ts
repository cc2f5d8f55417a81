import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  encodeSrvQuery,
  MalformedDnsMessage,
  messageId,
  readSrvAnswer,
} from '../../src/discover/srv-message.ts';

const QUESTION = '_http._tcp.svc.test';
// The question's name sits right after the 12-byte header: answers point back to it.
const TO_QUESTION = Buffer.from([0xc0, 12]);

function wireName(name: string): Buffer {
  const parts =
    name === '' ? [] : name.split('.').map((label) => Buffer.from([label.length, ...Buffer.from(label)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function u16(...values: number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 2);
  for (const [i, value] of values.entries()) buffer.writeUInt16BE(value, i * 2);
  return buffer;
}

function record(owner: Buffer, type: number, ttl: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, fixed, data]);
}

function srv(
  owner: Buffer,
  ttl: number,
  priority: number,
  weight: number,
  port: number,
  target: Buffer,
): Buffer {
  return record(owner, 33, ttl, Buffer.concat([u16(priority, weight, port), target]));
}

function answer(records: Buffer[], { flags = 0x8180, question = QUESTION, qtype = 33 } = {}): Buffer {
  return Buffer.concat([
    u16(7, flags, 1, records.length, 0, 0),
    wireName(question),
    u16(qtype, 1),
    ...records,
  ]);
}

function refused(message: Buffer, why: RegExp): void {
  assert.throws(
    () => readSrvAnswer(message, QUESTION),
    (error: unknown) =>
      error instanceof MalformedDnsMessage && error.code === 'EBADRESP' && why.test(error.message),
  );
}

describe('encodeSrvQuery', () => {
  it('asks one SRV question, recursion desired, with an EDNS0 OPT record', () => {
    const query = encodeSrvQuery(0xbeef, `${QUESTION}.`);
    assert.equal(messageId(query), 0xbeef);
    assert.deepEqual(query.subarray(2, 12), u16(0x0100, 1, 0, 0, 1));
    assert.deepEqual(query.subarray(12, 12 + 21), wireName(QUESTION));
    assert.deepEqual(query.subarray(33, 37), u16(33, 1));
    assert.deepEqual(query.subarray(37), Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  });

  it('refuses names the wire cannot carry', () => {
    assert.throws(() => encodeSrvQuery(1, 'a..b'), RangeError);
    assert.throws(() => encodeSrvQuery(1, `${'a'.repeat(64)}.test`), RangeError);
    assert.throws(() => encodeSrvQuery(1, Array.from({ length: 60 }, () => 'abcd').join('.')), RangeError);
  });
});

describe('readSrvAnswer', () => {
  it('reads SRV records with their TTLs, compressed names included', () => {
    const target = Buffer.concat([Buffer.from([2, ...Buffer.from('b1')]), Buffer.from([0xc0, 12 + 11])]);
    const message = answer([
      srv(TO_QUESTION, 30, 0, 10, 3001, target),
      srv(TO_QUESTION, 20, 1, 5, 3002, wireName('B2.svc.test')),
      // Another owner's record (as in an additional answer) is not ours.
      srv(wireName('_other._tcp.svc.test'), 1, 0, 1, 9, wireName('x.test')),
    ]);
    assert.deepEqual(readSrvAnswer(message, QUESTION), {
      rcode: 0,
      truncated: false,
      records: [
        { priority: 0, weight: 10, port: 3001, target: 'b1.svc.test', ttl: 30 },
        { priority: 1, weight: 5, port: 3002, target: 'b2.svc.test', ttl: 20 },
      ],
      ttl: 20,
    });
  });

  it('follows CNAMEs from the question, their TTLs counted', () => {
    const message = answer([
      record(TO_QUESTION, 5, 3, wireName('_real._tcp.svc.test')),
      srv(wireName('_real._tcp.svc.test'), 60, 0, 1, 80, wireName('b.test')),
    ]);
    const read = readSrvAnswer(message, QUESTION);
    assert.deepEqual(
      read.records.map((r) => r.target),
      ['b.test'],
    );
    assert.equal(read.ttl, 3);
  });

  it('reads a TTL with the top bit set as 0 (RFC 2181)', () => {
    const read = readSrvAnswer(
      answer([srv(TO_QUESTION, 0x80000000, 0, 1, 80, wireName('b.test'))]),
      QUESTION,
    );
    assert.equal(read.ttl, 0);
  });

  it('hands back the rcode of a failure and the truncation flag without reading further', () => {
    assert.equal(readSrvAnswer(answer([], { flags: 0x8183 }), QUESTION).rcode, 3);
    assert.equal(readSrvAnswer(answer([], { flags: 0x8182 }), QUESTION).rcode, 2);
    const truncated = readSrvAnswer(Buffer.concat([u16(7, 0x8380, 1, 5, 0, 0)]), QUESTION);
    assert.equal(truncated.truncated, true);
    assert.deepEqual(truncated.records, []);
  });

  it('refuses malformed answers', () => {
    refused(Buffer.from([0, 7, 0x81]), /shorter than its header/);
    refused(answer([], { flags: 0x0100 }), /not an answer/);
    refused(answer([], { question: '_other._tcp.svc.test' }), /another question/);
    refused(answer([], { qtype: 1 }), /another question/);
    refused(answer([srv(Buffer.from([0xc0, 0xff]), 1, 0, 1, 80, wireName('b.test'))]), /point backwards/);
    refused(answer([srv(Buffer.from([0xc0, 37]), 1, 0, 1, 80, wireName('b.test'))]), /point backwards/);
    refused(answer([srv(Buffer.from([0x80, 1]), 1, 0, 1, 80, wireName('b.test'))]), /unknown label type/);
    refused(answer([]).subarray(0, 20), /runs past the message/);
    refused(answer([srv(TO_QUESTION, 1, 0, 1, 80, wireName('b.test'))]).subarray(0, 50), /truncated/);
    refused(answer([record(TO_QUESTION, 33, 1, u16(0, 1))]), /too short/);
    refused(
      answer([record(TO_QUESTION, 33, 1, Buffer.concat([u16(0, 1, 80), wireName('b.test'), u16(0)]))]),
      /overruns/,
    );
    refused(answer([srv(TO_QUESTION, 1, 0, 1, 80, wireName('bad name.test'))]), /not a host name/);
    refused(
      answer([
        record(TO_QUESTION, 5, 1, wireName('_a.test')),
        record(wireName('_a.test'), 5, 1, Buffer.from(TO_QUESTION)),
      ]),
      /CNAME loop/,
    );
  });

  it('never throws anything but MalformedDnsMessage, whatever the bytes', () => {
    const valid = answer([
      record(TO_QUESTION, 5, 3, wireName('_real._tcp.svc.test')),
      srv(wireName('_real._tcp.svc.test'), 60, 0, 1, 80, Buffer.concat([Buffer.from([1, 98]), TO_QUESTION])),
    ]);
    const survives = (message: Buffer) => {
      try {
        readSrvAnswer(message, QUESTION);
      } catch (error) {
        if (!(error instanceof MalformedDnsMessage)) throw error;
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(valid.length),
        (flips, cut) => {
          const message = Buffer.from(valid.subarray(0, Math.max(cut, 12)));
          for (const [at, value] of flips) if (at < message.length) message[at] = value;
          survives(message);
        },
      ),
      { seed: 42, numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => survives(Buffer.from(bytes))),
      { seed: 42, numRuns: 2000 },
    );
  });
});
