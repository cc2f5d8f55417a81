import type { BackendSpec } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { sameBackends } from './same-backends.ts';

/**
 * The backends given by flags or the config file. A config reload hands it a new list with
 * {@link update}; subscribers hear of it only when the list changed.
 */
export class StaticDiscovery implements Discovery {
  #backends: readonly BackendSpec[];
  readonly #listeners = new Set<(backends: readonly BackendSpec[]) => void>();

  constructor(backends: readonly BackendSpec[]) {
    this.#backends = backends;
  }

  get description(): string {
    const n = this.#backends.length;
    return `static (${n} backend${n === 1 ? '' : 's'})`;
  }

  subscribe(listener: (backends: readonly BackendSpec[]) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#backends);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces the list; returns whether it differed (order aside). */
  update(backends: readonly BackendSpec[]): boolean {
    if (sameBackends(this.#backends, backends)) return false;
    this.#backends = backends;
    for (const listener of this.#listeners) listener(backends);
    return true;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
