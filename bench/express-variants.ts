/** The servers express-overhead.ts compares, in report order. */
export const VARIANTS = ['bare', 'empty-middleware', 'readykit', 'express-prom-bundle'] as const;
export type Variant = (typeof VARIANTS)[number];
