import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isLowerHexId, isSpanId, isTraceId, RandomIds } from '../src/trace-ids.ts';

const PROPERTY = { seed: 42, numRuns: 2000 };
// Any code point (lone surrogates included), ASCII half the time; fast-check's own 'binary'
// unit costs 0.6 s of setup per process.
const anyChar = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff }))
  .map((c) => String.fromCodePoint(c));
const LOWER_HEX = /^[0-9a-f]+$/;

test('isTraceId: 32 lowercase hex, not all zeros', () => {
  for (const valid of [
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '00000000000000000000000000000001',
    '10000000000000000000000000000000',
    'ffffffffffffffffffffffffffffffff',
  ]) {
    assert.equal(isTraceId(valid), true, valid);
  }
  for (const invalid of [
    '',
    '00000000000000000000000000000000',
    '4bf92f3577b34da6a3ce929d0e0e473',
    '4bf92f3577b34da6a3ce929d0e0e47360',
    '4BF92F3577B34DA6A3CE929D0E0E4736',
    '4bf92f3577b34da6a3ce929d0e0e473G',
    '4bf92f3577b34da6a3ce929d0e0e473g',
    '4bf92f3577b34da6-3ce929d0e0e4736',
    ' bf92f3577b34da6a3ce929d0e0e4736',
    '4bf92f3577b34da6a3ce929d0e0e473\n',
    '4bf92f3577b34da6a3ce929d0e0e473é',
    '4bf92f3577b34da6a3ce929d0e0e473０',
    '00f067aa0ba902b7',
  ]) {
    assert.equal(isTraceId(invalid), false, JSON.stringify(invalid));
  }
});

test('isSpanId: 16 lowercase hex, not all zeros', () => {
  for (const valid of ['00f067aa0ba902b7', '0000000000000001', 'ffffffffffffffff']) {
    assert.equal(isSpanId(valid), true, valid);
  }
  for (const invalid of [
    '',
    '0000000000000000',
    '00f067aa0ba902b',
    '00f067aa0ba902b70',
    '00F067AA0BA902B7',
    '00f067aa0ba902bz',
    '00f067aa0ba902b ',
    '4bf92f3577b34da6a3ce929d0e0e4736',
  ]) {
    assert.equal(isSpanId(invalid), false, JSON.stringify(invalid));
  }
});

test('isLowerHexId checks a window of a longer string and never reads past it', () => {
  const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.equal(isLowerHexId(header, 3, 32), true);
  assert.equal(isLowerHexId(header, 36, 16), true);
  assert.equal(isLowerHexId(header, 2, 32), false, 'includes the dash');
  assert.equal(isLowerHexId(header, 50, 16), false, 'runs past the end');
  assert.equal(isLowerHexId(header, -1, 2), false);
  assert.equal(isLowerHexId('x0000y', 1, 4), false, 'all zeros');
});

test('RandomIds draws consecutive bytes of the pool as hex', () => {
  let fills = 0;
  const ids = new RandomIds((buffer) => {
    fills++;
    for (let i = 0; i < buffer.length; i++) buffer[i] = (i + fills) & 0xff;
  });
  assert.equal(fills, 0, 'the pool is filled on first use, not at construction');
  assert.equal(ids.traceId(), '0102030405060708090a0b0c0d0e0f10');
  assert.equal(ids.spanId(), '1112131415161718');
  assert.equal(ids.spanId(), '191a1b1c1d1e1f20');
  assert.equal(fills, 1);
});

test('RandomIds refills the pool once it is used up', () => {
  let fills = 0;
  const ids = new RandomIds((buffer) => {
    fills++;
    buffer.fill(fills);
  });
  for (let i = 0; i < 256; i++) assert.equal(ids.traceId(), '01'.repeat(16));
  assert.equal(fills, 1, '4096 bytes serve 256 trace ids');
  assert.equal(ids.traceId(), '02'.repeat(16));
  assert.equal(fills, 2);
  // 4080 bytes of the second pool left: 510 span ids, then a third fill.
  for (let i = 0; i < 510; i++) assert.equal(ids.spanId(), '02'.repeat(8));
  assert.equal(ids.spanId(), '03'.repeat(8));
  assert.equal(fills, 3);
});

test('RandomIds never returns an all-zero id: it redraws', () => {
  const ids = new RandomIds((buffer) => {
    buffer.fill(0);
    buffer[16 + 15] = 0xab; // only the second 16-byte slot is non-zero
    buffer[40] = 0x01;
  });
  assert.equal(ids.traceId(), `${'00'.repeat(15)}ab`);
  // Bytes 32-39 are zero: skipped; bytes 40-47 hold 0x01 first.
  assert.equal(ids.spanId(), `01${'00'.repeat(7)}`);
});

test('RandomIds fails loudly instead of looping forever on a fill that only writes zeros', () => {
  const ids = new RandomIds((buffer) => {
    buffer.fill(0);
  });
  assert.throws(() => ids.traceId(), /only zero bytes/);
  assert.throws(() => ids.spanId(), /only zero bytes/);
});

test('RandomIds with crypto: valid, distinct ids', () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const traceId = ids.traceId();
    const spanId = ids.spanId();
    assert.ok(isTraceId(traceId), traceId);
    assert.ok(isSpanId(spanId), spanId);
    seen.add(traceId);
    seen.add(spanId);
  }
  assert.equal(seen.size, 4000);
});

test('property: ids are the hex of the non-zero slots of the pool, in order', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 4096, maxLength: 4096 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(255), { maxLength: 8 }),
      (bytes, kinds, zeroSlots) => {
        // Zero a few 8-byte slots so the redraw path is exercised.
        for (const slot of zeroSlots) bytes.fill(0, slot * 8, slot * 8 + 8);
        const ids = new RandomIds((buffer) => {
          buffer.set(bytes);
        });
        let offset = 0;
        for (const wantTrace of kinds) {
          const size = wantTrace ? 16 : 8;
          while (bytes.subarray(offset, offset + size).every((b) => b === 0)) offset += size;
          const expected = Buffer.from(bytes.subarray(offset, offset + size)).toString('hex');
          offset += size;
          const id = wantTrace ? ids.traceId() : ids.spanId();
          assert.equal(id, expected);
          assert.match(id, LOWER_HEX);
          assert.ok(wantTrace ? isTraceId(id) : isSpanId(id));
        }
      },
    ),
    { ...PROPERTY, numRuns: 300 },
  );
});

test('property: isTraceId and isSpanId agree with the regex definition', () => {
  const unit = fc.constantFrom(...'00000123456789abcdefABCDEFg- ');
  const anyLength = fc.string({ unit, maxLength: 34 });
  const spanLength = fc.string({ unit, minLength: 16, maxLength: 16 });
  const traceLength = fc.string({ unit, minLength: 32, maxLength: 32 });
  const lowerHex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 32 });
  const anything = fc.string({ unit: anyChar, maxLength: 34 });
  fc.assert(
    fc.property(fc.oneof(anyLength, spanLength, traceLength, lowerHex, anything), (s) => {
      assert.equal(isTraceId(s), /^[0-9a-f]{32}$/.test(s) && /[1-9a-f]/.test(s));
      assert.equal(isSpanId(s), /^[0-9a-f]{16}$/.test(s) && /[1-9a-f]/.test(s));
    }),
    PROPERTY,
  );
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('RandomIds.uuid: the next 16 pool bytes as a version 4, RFC 9562 variant UUID', () => {
  const ids = new RandomIds((buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 17 + 255) & 0xff;
  });
  // Bytes 0xff, 0x10, 0x21, ...: byte 6 (0x65) becomes 0x45 (version 4); byte 8 (0x87) has the variant bits already.
  assert.equal(ids.uuid(), 'ff102132-4354-4576-8798-a9bacbdcedfe');
  assert.equal(ids.uuid(), '0f203142-5364-4586-97a8-b9cadbecfd0e');
  // The pool is shared: a trace id drawn next takes the following 16 bytes.
  assert.equal(ids.traceId(), '1f30415263748596a7b8c9daebfc0d1e');
  // All ones: only the version nibble and the two variant bits are forced.
  assert.equal(new RandomIds((buffer) => buffer.fill(0xff)).uuid(), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  assert.equal(new RandomIds((buffer) => buffer.fill(0)).uuid(), '00000000-0000-4000-8000-000000000000');
});

test('RandomIds.uuid with crypto: well-formed and distinct, across pool refills', () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = ids.uuid();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
});
