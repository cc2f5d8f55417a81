const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain) of the UTF-8 bytes of `text`, as an unsigned
 * 32-bit integer: fast, well distributed, not cryptographic. Different seeds give independent
 * hashes, which Maglev needs two of per backend. The bytes are encoded on the fly, so hashing
 * allocates nothing; lone surrogates count as U+FFFD, as `TextEncoder` writes them, so the
 * result equals murmur3 of `new TextEncoder().encode(text)` in any other implementation.
 */
export function stringHash(text: string, seed = 0): number {
  let h = seed | 0;
  let block = 0;
  let shift = 0;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    let bytes: number; // up to 4 UTF-8 bytes, first in the low byte
    let count: number;
    if (code < 0x80) {
      bytes = code;
      count = 1;
    } else if (code < 0x800) {
      bytes = 0xc0 | (code >> 6) | ((0x80 | (code & 0x3f)) << 8);
      count = 2;
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      code = 0x10000 + ((code - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      bytes =
        0xf0 |
        (code >> 18) |
        ((0x80 | ((code >> 12) & 0x3f)) << 8) |
        ((0x80 | ((code >> 6) & 0x3f)) << 16) |
        ((0x80 | (code & 0x3f)) << 24);
      count = 4;
    } else {
      if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
      bytes = 0xe0 | (code >> 12) | ((0x80 | ((code >> 6) & 0x3f)) << 8) | ((0x80 | (code & 0x3f)) << 16);
      count = 3;
    }
    length += count;
    for (let b = 0; b < count; b++) {
      block |= ((bytes >>> (b * 8)) & 0xff) << shift;
      shift += 8;
      if (shift === 32) {
        h ^= scramble(block);
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        block = 0;
        shift = 0;
      }
    }
  }
  if (shift > 0) h ^= scramble(block);
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
