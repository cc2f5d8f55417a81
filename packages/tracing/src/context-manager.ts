import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

let owned: AsyncLocalStorageContextManager | undefined;
let users = 0;

/**
 * The OpenTelemetry API's default context manager is a no-op: `context.with()` would not carry
 * anything across `await`. When no SDK has registered one, readykit registers the
 * AsyncLocalStorage one the SDK itself would use, so an SDK started later behaves the same.
 * Reference counted: the last `release()` unregisters only what readykit registered.
 */
export function acquireContextManager(): void {
  users++;
  if (users > 1 || owned !== undefined) return;
  const manager = new AsyncLocalStorageContextManager();
  manager.enable();
  if (context.setGlobalContextManager(manager)) owned = manager;
  else manager.disable();
}

export function releaseContextManager(): void {
  if (users === 0) return;
  users--;
  if (users > 0 || owned === undefined) return;
  owned = undefined;
  context.disable();
}
