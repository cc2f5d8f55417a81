import type { BackendSpec } from '../options.ts';

/**
 * A source of backend sets (tower's `Discover`): it calls the listener with the whole current
 * set every time the set changes, first as soon as it knows one. Static configuration, a
 * watched file, DNS and Kubernetes EndpointSlices all fit behind it.
 */
export interface Discovery {
  /** A short description for logs and /api/backends, e.g. `static (3 backends)`. */
  readonly description: string;
  /** Starts watching; returns a function that stops delivering sets to `listener`. */
  subscribe(listener: (backends: readonly BackendSpec[]) => void): () => void;
  close(): Promise<void>;
}
