import type { BackendSpec } from '../options.ts';
import type { Discovery } from './discovery.ts';

/** The backends given by flags or the config file: one set, delivered once. */
export class StaticDiscovery implements Discovery {
  readonly description: string;
  readonly #backends: readonly BackendSpec[];

  constructor(backends: readonly BackendSpec[]) {
    this.#backends = backends;
    this.description = `static (${backends.length} backend${backends.length === 1 ? '' : 's'})`;
  }

  subscribe(listener: (backends: readonly BackendSpec[]) => void): () => void {
    listener(this.#backends);
    return () => {};
  }

  async close(): Promise<void> {}
}
