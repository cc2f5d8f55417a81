/** The servers express-overhead.ts compares, in report order. */
export const VARIANTS = [
  'bare',
  'empty-middleware',
  'async-context',
  'otel-context',
  'propagation',
  'readykit',
  'readykit-no-propagation',
  'readykit-health-only',
  'metrics-track',
  'readykit-load-report',
  'express-prom-bundle',
  'readykit-otel-sdk',
  'otel-sdk',
] as const;
export type Variant = (typeof VARIANTS)[number];

/**
 * Node flags a variant's server starts with: the two full-SDK variants load their SDK before
 * the app, as their users must.
 */
export function preloadFor(variant: Variant): string[] {
  if (variant === 'readykit-otel-sdk') return ['--import', '@readykit/tracing/register'];
  if (variant === 'otel-sdk') return ['--import', new URL('./otel-sdk-register.ts', import.meta.url).href];
  return [];
}
