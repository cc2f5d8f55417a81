/**
 * Stable error codes. Check `error.code`, never the message: messages may be reworded,
 * codes are part of the public API.
 */
export const ErrorCodes = {
  /** An option has the wrong type or range; the message names the option path. */
  INVALID_OPTION: 'RK_ERR_INVALID_OPTION',
  /** The shutdown timeline (delay + drain + hooks) cannot fit the termination grace period. */
  SHUTDOWN_BUDGET: 'RK_ERR_SHUTDOWN_BUDGET',
  /** A check, gate or hook name is used twice where names must be unique. */
  DUPLICATE_NAME: 'RK_ERR_DUPLICATE_NAME',
  /** `gate(name)` was asked for a gate that was never declared. */
  UNKNOWN_GATE: 'RK_ERR_UNKNOWN_GATE',
  /** The operation is not allowed in the current lifecycle state. */
  LIFECYCLE: 'RK_ERR_LIFECYCLE',
  /** A check, warmup attempt or shutdown hook ran past its timeout. */
  TIMEOUT: 'RK_ERR_TIMEOUT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error readykit throws. */
export class ReadykitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ReadykitError';
    this.code = code;
  }
}

export function invalidOption(path: string, expected: string, got: unknown): ReadykitError {
  return new ReadykitError(ErrorCodes.INVALID_OPTION, `${path} must be ${expected}, got ${describe(got)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
