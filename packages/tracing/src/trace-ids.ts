import { randomFillSync } from 'node:crypto';

/** True for a W3C trace id: exactly 32 lowercase hex characters, not all zeros. */
export function isTraceId(s: string): boolean {
  return s.length === 32 && isLowerHexId(s, 0, 32);
}

/** True for a W3C span (parent) id: exactly 16 lowercase hex characters, not all zeros. */
export function isSpanId(s: string): boolean {
  return s.length === 16 && isLowerHexId(s, 0, 16);
}

/**
 * True when `s` holds exactly `length` lowercase hex characters from `start` on (more may follow)
 * and they are not all `0`. Lets the header parsers check an id in place and slice it only once
 * the whole header is known to be valid.
 */
export function isLowerHexId(s: string, start: number, length: number): boolean {
  const end = start + length;
  if (start < 0 || end > s.length) return false;
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x30) continue;
    if ((c > 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) nonZero = true;
    else return false;
  }
  return nonZero;
}

/** Fills the whole buffer with random bytes, as `crypto.randomFillSync(buffer)` does. */
export type RandomFill = (buffer: Buffer) => void;

// One randomFillSync call per 4 KiB serves 256 trace ids or 512 span ids: the syscall, not the
// hex encoding, is what costs when ids are drawn one by one.
const POOL_BYTES = 4096;

/** The character codes of the 16 lowercase hex digits. */
const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

/**
 * Trace and span ids and random UUIDs from a pool of random bytes refilled when used up.
 * Never returns an all-zero trace or span id (invalid in W3C Trace Context and B3): such a draw
 * is discarded and redrawn.
 */
export class RandomIds {
  readonly #fill: RandomFill;
  readonly #pool: Buffer;
  // One UUID's characters, written in place and read out as one flat string.
  readonly #uuid = Buffer.allocUnsafeSlow(36);
  #offset: number;

  /** @param fill replaces `crypto.randomFillSync`, so tests can draw predictable ids. */
  constructor(fill: RandomFill = defaultFill) {
    this.#fill = fill;
    // Its own memory, never a slice of Node's shared pool that other code could read.
    this.#pool = Buffer.allocUnsafeSlow(POOL_BYTES);
    this.#offset = POOL_BYTES;
  }

  /** A new 32-character trace id. */
  traceId(): string {
    return this.#draw(16);
  }

  /** A new 16-character span id. */
  spanId(): string {
    return this.#draw(8);
  }

  /**
   * A new random (version 4) UUID, lowercase. What `crypto.randomUUID()` returns, made
   * differently: Node builds it by joining 20 small strings, a rope that is flattened again when
   * it becomes a header, and at one id per request that garbage measurably slowed a server
   * (bench/express-pairs.ts); here the 36 characters are written into a buffer and read out once.
   */
  uuid(): string {
    const pool = this.#pool;
    const at = this.#take(16);
    const out = this.#uuid;
    let o = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = DASH;
      let byte = pool[at + i]!;
      if (i === 6)
        byte = (byte & 0x0f) | 0x40; // version 4
      else if (i === 8) byte = (byte & 0x3f) | 0x80; // the RFC 9562 variant
      out[o++] = HEX_CODES[byte >> 4]!;
      out[o++] = HEX_CODES[byte & 0x0f]!;
    }
    return out.toString('latin1', 0, 36);
  }

  #draw(bytes: number): string {
    // A whole pool of zero ids can only come from a broken fill function: fail loudly
    // rather than loop forever.
    for (let attempts = 0; attempts <= POOL_BYTES / bytes; attempts++) {
      const start = this.#take(bytes);
      const end = start + bytes;
      if (!isZero(this.#pool, start, end)) return this.#pool.toString('hex', start, end);
    }
    throw new Error('RandomIds: the fill function returned only zero bytes');
  }

  /** The offset of `bytes` unused random bytes in the pool, refilled first when too few are left. */
  #take(bytes: number): number {
    if (this.#offset + bytes > POOL_BYTES) {
      this.#fill(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset = start + bytes;
    return start;
  }
}

function defaultFill(buffer: Buffer): void {
  randomFillSync(buffer);
}

function isZero(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buffer[i] !== 0) return false;
  return true;
}
