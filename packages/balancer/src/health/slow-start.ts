/** Share of its weight a backend gets at the start of its slow start window (Envoy's default). @default 10 */
export const DEFAULT_SLOW_START_MIN_PERCENT = 10;
/** Shape of the ramp; 1 is linear, as in HAProxy's `slowstart`. @default 1 */
export const DEFAULT_SLOW_START_AGGRESSION = 1;

/**
 * The share of its weight a backend takes `elapsedMs` after it became ready, so a cold
 * process (empty caches, unoptimised code) is not handed a full share at once. Envoy's slow
 * start: `max(minPercent / 100, (elapsed / window) ^ (1 / aggression))`; 1 from the end of
 * the window on, and always 1 when `windowMs` is 0 (slow start off). Aggression 1 is a linear
 * ramp (HAProxy); above 1 the weight rises faster early, below 1 slower. A negative
 * `elapsedMs` (a clock read before `becameReadyAt`) counts as 0.
 *
 * Expects `windowMs >= 0`, `minPercent` in [0, 100] and `aggression > 0`, as the config
 * checks; `minPercent` 0 gives a weight of 0 at the very start of the window. Called per
 * pick: allocates nothing, and skips `Math.pow` for the linear ramp.
 */
export function slowStartFactor(
  elapsedMs: number,
  windowMs: number,
  minPercent = DEFAULT_SLOW_START_MIN_PERCENT,
  aggression = DEFAULT_SLOW_START_AGGRESSION,
): number {
  if (!(windowMs > 0) || elapsedMs >= windowMs) return 1;
  const progress = elapsedMs > 0 ? elapsedMs / windowMs : 0;
  const ramp = aggression === 1 ? progress : progress ** (1 / aggression);
  return Math.max(minPercent / 100, ramp);
}
