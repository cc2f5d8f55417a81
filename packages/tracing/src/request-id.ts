import type { RandomIds } from './trace-ids.ts';

// UUIDs, hex, base64 and base64url, ULIDs, and the ids of Heroku, AWS (`Root=1-...`) and most
// proxies; nothing that could split a log line or a header: no whitespace, control characters,
// commas, quotes or non-ASCII.
const REQUEST_ID = /^[A-Za-z0-9._~:/+=@-]{1,128}$/;

/**
 * True when an incoming request id (`x-request-id` and the like) is safe to adopt, echo in a
 * response header and write to logs: 1-128 characters of `A-Z a-z 0-9 . _ ~ : / + = @ -`.
 * Anything else, arrays included (a repeated header), is refused: the caller then mints
 * its own id with {@link newRequestId}. Never throws.
 */
export function isRequestId(value: string | string[] | undefined): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/**
 * A new request id: a random (version 4) UUID drawn from `ids`, the same pool the instance's
 * trace and span ids come from (so a test's predictable fill covers request ids too).
 */
export function newRequestId(ids: RandomIds): string {
  return ids.uuid();
}
