/** Stable codes of the errors @readykit/tracing raises; check `error.code`, never the message. */
export const TracingErrorCodes = {
  /** An outgoing call was started, or was still running, when the request's deadline passed. */
  DEADLINE_EXCEEDED: 'RK_ERR_DEADLINE_EXCEEDED',
  /** The client went away before the response was complete, so work done for it is wasted. */
  CLIENT_CLOSED: 'RK_ERR_CLIENT_CLOSED',
} as const;

export type TracingErrorCode = (typeof TracingErrorCodes)[keyof typeof TracingErrorCodes];

/** The reason of a request's `signal` and the error outgoing calls fail with when it fires. */
export class RequestAbortedError extends Error {
  readonly code: TracingErrorCode;

  constructor(code: TracingErrorCode, message: string) {
    super(message);
    this.name = code === TracingErrorCodes.DEADLINE_EXCEEDED ? 'DeadlineExceededError' : 'ClientClosedError';
    this.code = code;
  }
}
