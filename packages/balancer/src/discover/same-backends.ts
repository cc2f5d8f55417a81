import type { BackendSpec } from '../options.ts';

/**
 * Whether two backend sets hold the same backends with the same weights and drain flags, in
 * any order: discoveries deliver a set only when this says it changed.
 */
export function sameBackends(a: readonly BackendSpec[], b: readonly BackendSpec[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(keyOf).sort();
  const right = b.map(keyOf).sort();
  return left.every((key, i) => key === right[i]);
}

function keyOf(spec: BackendSpec): string {
  return `${spec.url} ${spec.weight} ${spec.draining === true}`;
}
