import type { TestContext } from 'node:test';
import { BalancedDispatcher } from '../../src/client/balanced-dispatcher.ts';
import type { BalancedDispatcherOptions } from '../../src/client/dispatcher-options.ts';
import { startTestBackend, type TestBackend, until } from '../support/test-backend.ts';

/** The logical origin every dispatcher test calls; nothing resolves it, only the dispatcher. */
export const ORIGIN = 'http://inventory.test';

/** Test defaults: fast checks, and no slow start so every ready backend takes its full share at once. */
const FAST: Partial<BalancedDispatcherOptions> = {
  healthCheck: { interval: '100ms' },
  slowStart: { window: 0 },
};

export interface DispatcherSetup {
  readonly d: BalancedDispatcher;
  readonly backends: TestBackend[];
}

/**
 * Real loopback backends named `names` and a dispatcher over them for {@link ORIGIN}, once every
 * backend passed its first readiness check. Everything is closed after the test.
 */
export async function startDispatcher(
  t: TestContext,
  names: readonly string[],
  options: Partial<BalancedDispatcherOptions> = {},
): Promise<DispatcherSetup> {
  const backends = await Promise.all(names.map((name) => startTestBackend(name)));
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const d = new BalancedDispatcher({
    origin: ORIGIN,
    backends: backends.map((b) => b.url),
    ...FAST,
    ...options,
  });
  // Closed before the backends (t.after runs last-in first-out): a call in flight never hangs the test.
  t.after(() => d.destroy());
  await allReady(d, backends.length);
  return { d, backends };
}

/** Resolves once `count` backends of `d` are ready. */
export async function allReady(d: BalancedDispatcher, count: number, timeoutMs = 3000): Promise<void> {
  await until(
    () => [...d.cluster.backends.all()].filter((b) => b.state === 'ready').length === count,
    timeoutMs,
    `${count} backends ready`,
  );
}

/** The backend of `d` whose URL is `url`. */
export function backendOf(d: BalancedDispatcher, url: string) {
  const found = d.cluster.backends.find(url);
  if (found === undefined) throw new Error(`no backend ${url}`);
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
