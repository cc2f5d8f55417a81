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

/**
 * Trace and span ids from a pool of random bytes refilled when used up. Never returns an
 * all-zero id (invalid in W3C Trace Context and B3): such a draw is discarded and redrawn.
 */
export class RandomIds {
  readonly #fill: RandomFill;
  readonly #pool: Buffer;
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

  #draw(bytes: number): string {
    // A whole pool of zero ids can only come from a broken fill function: fail loudly
    // rather than loop forever.
    for (let attempts = 0; attempts <= POOL_BYTES / bytes; attempts++) {
      if (this.#offset + bytes > POOL_BYTES) {
        this.#fill(this.#pool);
        this.#offset = 0;
      }
      const start = this.#offset;
      const end = start + bytes;
      this.#offset = end;
      if (!isZero(this.#pool, start, end)) return this.#pool.toString('hex', start, end);
    }
    throw new Error('RandomIds: the fill function returned only zero bytes');
  }
}

function defaultFill(buffer: Buffer): void {
  randomFillSync(buffer);
}

function isZero(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buffer[i] !== 0) return false;
  return true;
}
