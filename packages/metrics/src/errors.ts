import { ErrorCodes as HealthErrorCodes, ReadykitError } from '@readykit/health';

/**
 * Stable error codes. Check `error.code`, never the message: messages may be reworded,
 * codes are part of the public API. They are the codes of `@readykit/health`, and the errors
 * are its `ReadykitError`, so one `instanceof` and one set of codes covers the whole kit.
 */
export const ErrorCodes = {
  /** An option has the wrong type or range; the message names the option path. */
  INVALID_OPTION: HealthErrorCodes.INVALID_OPTION,
  /** A metric name is already registered in the given registry by something other than readykit. */
  DUPLICATE_NAME: HealthErrorCodes.DUPLICATE_NAME,
  /** The operation is not allowed once `close()` was called. */
  LIFECYCLE: HealthErrorCodes.LIFECYCLE,
} as const;

export type MetricsErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export { ReadykitError };
