import { invalidConfig } from '../errors.ts';
import type { Balance, Candidate, PickInput } from './candidate.ts';
import { P2cEwma } from './p2c-ewma.ts';
import { stringHash } from './string-hash.ts';

/** Lookup table size: prime, as the Maglev paper requires, and Envoy's default. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;
/** Largest table size accepted, Envoy's limit too: bounds the table's memory (20 MB) and build time. */
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

// Independent seeds for the three hashes: a backend's offset, its skip, a request's key.
const OFFSET_SEED = 0x9747b28c;
const SKIP_SEED = 0x5bd1e995;
const KEY_SEED = 0x1b873593;

/** Options of {@link Maglev}. */
export interface MaglevOptions {
  /**
   * Entries in the lookup table; must be prime and well above the number of backends (the
   * paper suggests 100x) for even shares. Larger spreads load more evenly, costs memory and
   * build time.
   * @default 65537
   */
  readonly tableSize?: number;
}

/**
 * Builds a Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
 * Load Balancer", NSDI 2016, section 3.4, with Envoy's weighting): each backend walks its own
 * permutation of the slots (`offset + j * skip` mod size, both hashed from its id) and the
 * backends take turns claiming their next free slot until the table is full. A backend of
 * weight w takes a turn in w / max-weight of the rounds, so its share of the table follows its
 * weight. Entries are indexes into `candidates`. Backends take turns in id order, so the table
 * depends on the set of candidates, not on the order discovery listed them in.
 */
export function buildMaglevTable(candidates: readonly Candidate[], tableSize: number): Uint32Array {
  const n = candidates.length;
  const table = new Uint32Array(tableSize);
  if (n === 0) return table;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    candidates[a]!.id < candidates[b]!.id ? -1 : 1,
  );
  const position = new Float64Array(n);
  const skip = new Float64Array(n);
  const weight = new Float64Array(n);
  const due = new Float64Array(n);
  let maxWeight = 0;
  for (const c of candidates) maxWeight = Math.max(maxWeight, c.weight);
  for (let k = 0; k < n; k++) {
    const c = candidates[order[k]!]!;
    position[k] = stringHash(c.id, OFFSET_SEED) % tableSize;
    skip[k] = (stringHash(c.id, SKIP_SEED) % (tableSize - 1)) + 1;
    weight[k] = c.weight / maxWeight;
  }
  const claimed = new Uint8Array(tableSize);
  let filled = 0;
  for (let round = 1; filled < tableSize; round++) {
    for (let k = 0; k < n && filled < tableSize; k++) {
      // Envoy's weighting: a turn is due once round * weight reaches the turns taken so far.
      if (round * weight[k]! < due[k]!) continue;
      due[k]! += 1;
      // The size is prime, so each walk visits every slot and finds a free one.
      let slot = position[k]!;
      while (claimed[slot] === 1) slot = next(slot, skip[k]!, tableSize);
      claimed[slot] = 1;
      table[slot] = order[k]!;
      position[k] = next(slot, skip[k]!, tableSize);
      filled++;
    }
  }
  return table;
}

function next(slot: number, skip: number, size: number): number {
  const sum = slot + skip;
  return sum >= size ? sum - size : sum;
}

/**
 * Maglev consistent hashing: requests with the same hash key go to the same backend while the
 * set of backends holds, and when a backend leaves only its keys (and few others) move. Shares
 * follow the configured `weight`, not the slow-start `effectiveWeight`, so a backend ramping up
 * does not reshuffle keys. The table is rebuilt only when the proxy hands a new candidates
 * array. An excluded backend (a retry) is skipped by walking the table forward, so a key's
 * retry also lands on the same place each time. Without a hash key, picks as {@link P2cEwma}.
 */
export class Maglev implements Balance {
  readonly name = 'maglev';
  readonly tableSize: number;
  readonly #fallback = new P2cEwma();
  #candidates: readonly Candidate[] | undefined;
  #table: Uint32Array = new Uint32Array(0);

  /** @throws BalancerError `RK_ERR_INVALID_CONFIG` if `tableSize` is not a prime up to 5000011. */
  constructor(options: MaglevOptions = {}) {
    const tableSize = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    if (!Number.isInteger(tableSize) || tableSize > MAX_MAGLEV_TABLE_SIZE || !isPrime(tableSize)) {
      throw invalidConfig('tableSize', `a prime number up to ${MAX_MAGLEV_TABLE_SIZE}`, tableSize);
    }
    this.tableSize = tableSize;
  }

  pick(candidates: readonly Candidate[], input: PickInput): Candidate | undefined {
    if (input.hashKey === undefined || candidates.length === 0) return this.#fallback.pick(candidates, input);
    if (candidates !== this.#candidates) {
      this.#table = buildMaglevTable(candidates, this.tableSize);
      this.#candidates = candidates;
    }
    const table = this.#table;
    let slot = stringHash(input.hashKey, KEY_SEED) % this.tableSize;
    const chosen = candidates[table[slot]!]!;
    const excluded = input.excluded;
    if (excluded === undefined || !excluded.has(chosen.id)) return chosen;
    if (!hasAllowed(candidates, excluded)) return undefined;
    for (let step = 1; step < this.tableSize; step++) {
      slot = slot + 1 === this.tableSize ? 0 : slot + 1;
      const c = candidates[table[slot]!]!;
      if (!excluded.has(c.id)) return c;
    }
    // Only with more backends than slots can an allowed one own no slot.
    return this.#fallback.pick(candidates, input);
  }
}

function hasAllowed(candidates: readonly Candidate[], excluded: ReadonlySet<string>): boolean {
  for (const c of candidates) if (!excluded.has(c.id)) return true;
  return false;
}

/** Trial division: table sizes are at most a few million, checked once. */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
