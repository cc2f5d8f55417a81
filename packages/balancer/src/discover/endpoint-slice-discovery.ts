import type { BackendSpec } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { endpointSliceBackends } from './endpoint-slice-backends.ts';
import {
  type EndpointSliceDiscoveryOptions,
  type EndpointSliceSettings,
  resolveEndpointSliceOptions,
} from './endpoint-slice-options.ts';
import { KubeListWatch, type WatchChange } from './kube-list-watch.ts';
import { sameBackends } from './same-backends.ts';

type Listener = (backends: readonly BackendSpec[]) => void;

/**
 * Backends from the `discovery.k8s.io/v1` EndpointSlices of one Kubernetes Service (label
 * `kubernetes.io/service-name`), all its slices merged: ready endpoints are backends,
 * terminating-but-serving ones are draining backends (no new requests, in-flight ones finish),
 * the rest are gone. Lists then watches through the API server, resuming from the last
 * resourceVersion, relisting on 410 and backing off on errors while the last good set stays.
 * Needs get, list and watch on `endpointslices` in the Service's namespace.
 */
export class EndpointSliceDiscovery implements Discovery {
  readonly #settings: EndpointSliceSettings;
  readonly #listWatch: KubeListWatch;
  readonly #listeners = new Set<Listener>();
  readonly #slices = new Map<string, unknown>();
  #backends: readonly BackendSpec[] | undefined;
  #skipped = '';
  #closed = false;

  /** Checks the options and loads the kubeconfig; throws `RK_ERR_INVALID_CONFIG` naming the key. Nothing is requested before `subscribe`. */
  constructor(options: EndpointSliceDiscoveryOptions) {
    this.#settings = resolveEndpointSliceOptions(options);
    const { namespace, service, kubeConfig, backoff } = this.#settings;
    this.#listWatch = new KubeListWatch(
      {
        kubeConfig,
        path: `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
        labelSelector: `kubernetes.io/service-name=${service}`,
        backoff,
        log: (line) => this.#log(line),
      },
      {
        listed: (items) => this.#listed(items),
        changed: (change, object) => this.#changed(change, object),
      },
    );
  }

  /** E.g. `kubernetes endpointslices default/api port http (3 backends)`. */
  get description(): string {
    const { namespace, service, port } = this.#settings;
    const count = this.#backends?.length;
    const state = count === undefined ? 'not listed yet' : `${count} backend${count === 1 ? '' : 's'}`;
    return `kubernetes endpointslices ${namespace}/${service}${port === undefined ? '' : ` port ${port}`} (${state})`;
  }

  /** Starts listing and watching on the first call; a later subscriber gets the current set at once. */
  subscribe(listener: Listener): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    if (this.#backends !== undefined) this.#deliver(listener, this.#backends);
    this.#listWatch.start();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops the watch, the list or the backoff wait in progress; no set is delivered after. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#listWatch.close();
  }

  #listed(items: readonly unknown[]): void {
    this.#slices.clear();
    for (const item of items) {
      const name = sliceName(item);
      if (name !== undefined) this.#slices.set(name, item);
    }
    this.#update();
  }

  #changed(change: WatchChange, object: unknown): void {
    const name = sliceName(object);
    if (name === undefined) return;
    if (change === 'DELETED') this.#slices.delete(name);
    else this.#slices.set(name, object);
    this.#update();
  }

  /** Recomputes the set; delivers it when it differs from the last one (or is the first). */
  #update(): void {
    const { port, scheme } = this.#settings;
    const { backends, skipped } = endpointSliceBackends(this.#slices.values(), port, scheme);
    const skippedNow = skipped.join('\n');
    if (skippedNow !== this.#skipped) {
      this.#skipped = skippedNow;
      for (const line of skipped) this.#log(line);
    }
    const previous = this.#backends;
    if (previous !== undefined && sameBackends(previous, backends)) return;
    this.#backends = backends;
    const draining = backends.reduce((n, b) => n + (b.draining === true ? 1 : 0), 0);
    const slices = this.#slices.size;
    this.#log(
      `${backends.length} backend${backends.length === 1 ? '' : 's'}${draining > 0 ? ` (${draining} draining)` : ''} from ${slices} slice${slices === 1 ? '' : 's'}`,
    );
    for (const listener of this.#listeners) this.#deliver(listener, backends);
  }

  #deliver(listener: Listener, backends: readonly BackendSpec[]): void {
    try {
      listener(backends);
    } catch (error) {
      this.#log(`a backend set listener threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #log(line: string): void {
    const { namespace, service, log } = this.#settings;
    log(`kubernetes ${namespace}/${service}: ${line}`);
  }
}

function sliceName(object: unknown): string | undefined {
  const metadata = (object as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof metadata?.name === 'string' && metadata.name !== '' ? metadata.name : undefined;
}
