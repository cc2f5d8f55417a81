import { invalidOption } from './errors.ts';

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
