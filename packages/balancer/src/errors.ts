/**
 * Stable error codes of `@readykit/balancer`. Check `error.code`, never the message: messages
 * may be reworded, codes are part of the public API.
 */
export const BalancerErrorCodes = {
  /** An option, flag or config key has the wrong type or range; the message names the key. */
  INVALID_CONFIG: 'RK_ERR_INVALID_CONFIG',
  /** No backend can take the request (none configured, all down, draining or ejected). */
  NO_BACKEND: 'RK_ERR_NO_BACKEND',
  /** The backend failed: connection refused or reset, malformed response. */
  BACKEND_FAILED: 'RK_ERR_BACKEND_FAILED',
  /** The request's deadline or a proxy timeout passed before the backend answered. */
  DEADLINE_EXCEEDED: 'RK_ERR_DEADLINE_EXCEEDED',
  /** The request was refused before reaching any backend (malformed or dangerous). */
  REQUEST_REFUSED: 'RK_ERR_REQUEST_REFUSED',
} as const;

export type BalancerErrorCode = (typeof BalancerErrorCodes)[keyof typeof BalancerErrorCodes];

/** Base class of every error the balancer throws or reports. */
export class BalancerError extends Error {
  readonly code: BalancerErrorCode;

  constructor(code: BalancerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BalancerError';
    this.code = code;
  }
}

/** A configuration error whose one-line message names the key, e.g. `healthCheck.rise must be ...`. */
export function invalidConfig(key: string, expected: string, got: unknown): BalancerError {
  return new BalancerError(
    BalancerErrorCodes.INVALID_CONFIG,
    `${key} must be ${expected}, got ${describe(got)}`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}
