import { ErrorCodes, invalidOption, ReadykitError } from './errors.ts';

// Option validators shared by readykit's packages (`@readykit/health/validate`): every one
// throws RK_ERR_INVALID_OPTION with a message that names the option path.
export { invalidOption };

/** Validators shared by every options resolver: each throws an error that names the option path. */
export function durationMs(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidOption(path, 'a non-negative number of milliseconds', value);
  }
  return value;
}

export function positiveMs(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(path, 'a positive number of milliseconds', value);
  }
  return value;
}

export function bool(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(path, 'a boolean', value);
  return value;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * Check, gate and hook names appear in probe output and URLs, so they are kept to a safe
 * alphabet. `path` is the collection, e.g. "readiness" reports "readiness names must be ...".
 */
export function name(path: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalidOption(`${path} names`, '1-64 letters, digits, "_", ".", ":" or "-"', value);
  }
  return value;
}

export function isName(value: string): boolean {
  return NAME.test(value);
}

export function urlPath(path: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw invalidOption(path, 'a URL path starting with "/" without query or spaces', value);
  }
  return value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
}

export function fn<T extends (...args: never[]) => unknown>(path: string, value: unknown): T {
  if (typeof value !== 'function') throw invalidOption(path, 'a function', value);
  return value as T;
}

export function plainObject(path: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(path, 'an object', value);
  }
  return value as Record<string, unknown>;
}

/**
 * Refuses keys the options object does not define, naming the closest known one: a typo such
 * as `gate` for `gates` would otherwise switch a feature off without a word.
 */
export function knownKeys(path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const where = path === 'options' ? key : `${path}.${key}`;
    const guess = closest(key, allowed);
    throw new ReadykitError(
      ErrorCodes.INVALID_OPTION,
      `unknown option ${JSON.stringify(where.slice(0, 60))}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`,
    );
  }
}

/**
 * The candidate nearest to `word` (edit distance below `limit`, case-insensitive), for
 * "did you mean" hints; undefined when none is close.
 */
export function closest(word: string, candidates: readonly string[], limit = 3): string | undefined {
  let best: string | undefined;
  let bestDistance = limit;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance; names are short, so the quadratic table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
