export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  readonly initialDelay: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelay: number;
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, half random,
 * so retries of many pods spread out but never retry at once. `attempt` counts from 1.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelay, policy.initialDelay * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
