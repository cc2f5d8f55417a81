import { failureCode, isRetryableFailure, isUnsentFailure } from './retry-policy.ts';

/**
 * What went wrong with an attempt, which decides the client's status and whether another
 * backend may be tried:
 * - `connect`: the backend never saw the request (refused, unreachable, connect timeout): any
 *   request without a body may go elsewhere;
 * - `reset`: the connection broke before a response (a reused keep-alive socket the backend
 *   closed under us, or a crash mid-request): retried only when the request is idempotent;
 * - `timeout`: no response headers within the budget: 504, never retried (the budget is spent);
 * - `aborted`: cancelled here (the client left, or a retry took over);
 * - `protocol`: anything else, such as a response that is not HTTP: 502.
 */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'aborted' | 'protocol';

/** Classifies an error undici reports for an attempt by its stable `code`. */
export function classifyFailure(error: unknown): FailureKind {
  const code = failureCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return 'aborted';
  if (isUnsentFailure(code)) return 'connect';
  if (isRetryableFailure(code, true, false)) return 'reset';
  return 'protocol';
}
