/** Envoy's healthy panic threshold. @default 50 */
export const DEFAULT_PANIC_THRESHOLD_PERCENT = 50;

/**
 * Whether the balancer is in panic mode: fewer than `thresholdPercent` % of the backends are
 * healthy. In panic mode the balancer stops trusting health: it routes to every backend that
 * still answers (its last check got an HTTP answer, `ReadinessTracker.answered`), ejected and
 * down ones included, rather than pile all traffic onto the few healthy ones, which would
 * then fail too, or refuse everything. A mass failure of checks is more often a problem with
 * the checks (a shared dependency, a network blip) than with every backend at once. Envoy's
 * `healthy_panic_threshold`.
 *
 * `healthyCount`: backends that may take new requests (ready, not ejected). `totalCount`:
 * backends not removed from discovery. A threshold of 0 turns panic mode off; no backends at
 * all is not panic (there is nothing to route to). Draining backends count in the total but
 * are never healthy, so a rolling update that drains many at once can tip the balancer into
 * panic: which backends it then routes to is the caller's choice.
 */
export function inPanic(
  healthyCount: number,
  totalCount: number,
  thresholdPercent = DEFAULT_PANIC_THRESHOLD_PERCENT,
): boolean {
  // Multiplied out rather than divided: exact for whole counts, and no 0 / 0.
  return thresholdPercent > 0 && totalCount > 0 && healthyCount * 100 < thresholdPercent * totalCount;
}
