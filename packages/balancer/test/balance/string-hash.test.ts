import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringHash } from '../../src/balance/string-hash.ts';

/** Byte-at-a-time MurmurHash3 x86_32, written from the reference C, to check the streaming UTF-8 one. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const mix = (k: number) => Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
  let h = seed | 0;
  const whole = bytes.length - (bytes.length % 4);
  for (let i = 0; i < whole; i += 4) {
    h ^= mix(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let i = bytes.length - 1; i >= whole; i--) tail = (tail << 8) | bytes[i]!;
  if (bytes.length > whole) h ^= mix(tail);
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

describe('stringHash', () => {
  // Published MurmurHash3 x86_32 vectors (SMHasher's, as collected on Stack Overflow 14747343).
  it('matches the published vectors for text', () => {
    const cases: Array<[string, number, number]> = [
      ['', 0, 0],
      ['', 1, 0x514e28b7],
      ['', 0xffffffff, 0x81f16f39],
      ['\0', 0, 0x514e28b7],
      ['\0\0', 0, 0x30f4c306],
      ['\0\0\0', 0, 0x85f0b427],
      ['\0\0\0\0', 0, 0x2362f9de],
      ['!', 0, 0x72661cf4],
      ['!C', 0, 0xa0f7b07a],
      ['!Ce', 0, 0x7e4a8634],
      ['Hello, world!', 1234, 0xfaf6cdb3],
      ['Hello, world!', 4321, 0xbf505788],
      ['Turn me into a hash', 1234, 4138100590],
    ];
    for (const [text, seed, expected] of cases)
      assert.equal(stringHash(text, seed), expected, JSON.stringify(text));
  });

  it('agrees with the byte-wise reference on published byte vectors', () => {
    const cases: Array<[number[], number, number]> = [
      [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
      [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
      [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
    ];
    for (const [bytes, seed, expected] of cases)
      assert.equal(murmur3Bytes(new Uint8Array(bytes), seed), expected);
  });

  it('hashes the UTF-8 bytes of any string, lone surrogates as U+FFFD', () => {
    const encoder = new TextEncoder();
    const anyChar = fc
      .oneof(
        fc.integer({ min: 0, max: 0x7f }),
        fc.integer({ min: 0x80, max: 0xffff }),
        fc.integer({ min: 0x10000, max: 0x10ffff }),
      )
      .map((c) => String.fromCodePoint(c));
    // 0x80-0xffff includes lone surrogates, and adjacent ones may happen to pair up.
    const text = fc.array(anyChar, { maxLength: 24 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => {
        assert.equal(stringHash(s, seed), murmur3Bytes(encoder.encode(s), seed));
      }),
      { seed: 42, numRuns: 3000 },
    );
    for (const s of ['🌵', 'a\ud83c\udf35', '\udf35\ud83c', 'x\ud83c', '\ud83c\ud83c\udf35', 'é€𝄞']) {
      assert.equal(stringHash(s, 7), murmur3Bytes(encoder.encode(s), 7), JSON.stringify(s));
    }
    assert.equal(stringHash('a\ud800b'), stringHash('a\ufffdb'));
  });

  it('spreads similar keys evenly over buckets', () => {
    const buckets = new Array<number>(64).fill(0);
    const keys = 64_000;
    for (let i = 0; i < keys; i++) buckets[stringHash(`user-${i}`) % 64]!++;
    // Chi-square with 63 degrees of freedom: 99.9th percentile about 104.
    const expected = keys / 64;
    const chi2 = buckets.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 104, `chi-square ${chi2}`);
  });

  it('gives unrelated values for different seeds', () => {
    let equal = 0;
    for (let i = 0; i < 1_000; i++) if (stringHash(`k${i}`, 1) % 97 === stringHash(`k${i}`, 2) % 97) equal++;
    assert.ok(equal < 30, `${equal} of 1000 agree modulo 97`);
  });
});
