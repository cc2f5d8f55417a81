import { OPTION_TABLE } from './option-table.ts';
import type { BalancerConfig } from './options.ts';

/**
 * Settings a config reload applies at once: the backend list and how requests are spread
 * over it (top-level keys only). Everything else (listeners, timeouts, health checks, limits) is read when the
 * balancer starts, so a change to it is reported as needing a restart.
 */
export const RELOADABLE_SETTINGS: ReadonlySet<string> = new Set([
  'backends',
  'algorithm',
  'hashHeader',
  'hashCookie',
  'maglevTableSize',
]);

/** The dotted keys whose values differ between two resolved configurations. */
export function changedSettings(before: BalancerConfig, after: BalancerConfig): string[] {
  const changed: string[] = [];
  for (const { key } of OPTION_TABLE) {
    if (JSON.stringify(valueAt(before, key)) !== JSON.stringify(valueAt(after, key))) changed.push(key);
  }
  return changed;
}

function valueAt(config: BalancerConfig, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}
