/** RFC 9110 9.2.2: repeating these has the effect of sending them once. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);

/**
 * Failures where the backend cannot have seen the request: the connection was never made, or
 * undici refused to send on a client being closed. Safe to retry whatever the method.
 */
const UNSENT_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CLOSED',
]);

/**
 * The connection died before the backend answered: most often the keep-alive race, a pooled
 * socket the backend closed as the request went out (undici reports `UND_ERR_SOCKET`, "other
 * side closed"), but the backend may also have crashed while handling it. Safe to retry only
 * when repeating the request is: idempotent methods. `ETIMEDOUT` is here, not above: it also
 * ends established connections. `UND_ERR_DESTROYED`: the client was destroyed with the request
 * in flight.
 */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_DESTROYED',
]);

/**
 * Whether a request may be sent twice: an idempotent method, or any method carrying an
 * `Idempotency-Key` (the IETF draft: the backend deduplicates by key). Methods are
 * case-sensitive (RFC 9110 9.1), as Node reports them.
 */
export function isRetryableRequest(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
}

/** Whether raw request headers (`req.rawHeaders`) carry a non-empty `Idempotency-Key`. */
export function hasIdempotencyKey(raw: readonly string[]): boolean {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 15 && name.toLowerCase() === 'idempotency-key' && raw[i + 1]!.length > 0) return true;
  }
  return false;
}

/**
 * Whether a failed attempt may go to another backend. Never once any byte of a response has
 * arrived (`responseStarted`: the failure is then the backend's answer, or lost mid-body);
 * always for a failure before the request could be sent; for a connection that died before
 * the answer, only when `retryable` ({@link isRetryableRequest}). Timeouts waiting for headers or
 * body, aborts, malformed responses and every HTTP status are never retried: the backend got
 * the request, and a slow or failing backend must not get it twice. The retry budget and
 * "never a request whose body was already streamed" are the caller's to check.
 *
 * @param code the error's `code` ({@link failureCode})
 */
export function isRetryableFailure(
  code: string | undefined,
  retryable: boolean,
  responseStarted: boolean,
): boolean {
  if (responseStarted || code === undefined) return false;
  return UNSENT_FAILURES.has(code) || (retryable && CONNECTION_FAILURES.has(code));
}

/** Whether the backend cannot have seen the request (see {@link isRetryableFailure}). */
export function isUnsentFailure(code: string | undefined): boolean {
  return code !== undefined && UNSENT_FAILURES.has(code);
}

/**
 * The `code` of an error from undici or `node:net`, looking into an `AggregateError` (Node's
 * happy-eyeballs connect fails with one per address tried) and one level of `cause`.
 */
export function failureCode(error: unknown): string | undefined {
  const code = codeOf(error);
  if (code !== undefined) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = codeOf(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return error instanceof Error ? codeOf(error.cause) : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
