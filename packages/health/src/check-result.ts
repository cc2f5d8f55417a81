/** IETF health-check statuses: `warn` passes a probe but flags a non-critical failure. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  readonly status: CheckStatus;
  /** Short, sanitised reason for a warn or fail; never a stack trace. */
  readonly reason?: string;
  /** How long the check ran, in milliseconds. */
  readonly durationMs: number;
  /** `Date.now()` when the result was produced. */
  readonly at: number;
}

const MAX_REASON = 120;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * Turns anything a check threw into a one-line reason that is safe to print in a probe
 * response: the error code and the first line of the message, control characters removed,
 * capped in length. Stacks never leave the process.
 */
export function reasonOf(error: unknown): string {
  let text: string;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message.split('\n', 1)[0] ?? '';
    text = typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
    if (text === '') text = error.name;
  } else if (typeof error === 'string') {
    text = error;
  } else {
    text = 'check failed';
  }
  return sanitizeReason(text);
}

export function sanitizeReason(text: string): string {
  const clean = text.replace(UNSAFE, ' ').trim();
  if (clean === '') return 'check failed';
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean;
}
