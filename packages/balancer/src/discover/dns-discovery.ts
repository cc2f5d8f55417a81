import { Resolver } from 'node:dns/promises';
import { backoffDelay } from '@readykit/health';
import type { BackendSpec } from '../options.ts';
import type { Discovery } from './discovery.ts';
import { type BackendLookup, lookupBackends } from './dns-backend-lookup.ts';
import {
  type DnsDiscoveryConfig,
  type DnsDiscoveryOptions,
  readDnsDiscoveryOptions,
} from './dns-discovery-options.ts';
import { formatDnsServerAddress } from './dns-server-address.ts';
import { sameBackends } from './same-backends.ts';

export type { AddressRecords, DnsDiscoveryOptions } from './dns-discovery-options.ts';

type Listener = (backends: readonly BackendSpec[]) => void;

/**
 * Backends from DNS: the addresses of `HOST:PORT`, or the targets, ports and weights of SRV
 * records (lowest priority value only), re-resolved when the shortest TTL of the answer runs
 * out, never sooner than `minTtl` nor later than `maxTtl`.
 *
 * A DNS blip never empties the pool:
 * - A failure (timeout, SERVFAIL, REFUSED, network, malformed answer) keeps the last set and
 *   retries with backoff from `minTtl` doubling up to `maxTtl`, logging one line per failure.
 * - An empty answer (NXDOMAIN, or no records) after a non-empty set is believed only once empty
 *   answers have kept coming for `maxTtl`; meanwhile the name is asked every `minTtl` and the
 *   last set stays. A first answer that is empty is delivered at once: nothing to keep.
 *
 * Listeners hear the whole set when it changes (URLs or weights), first as soon as the first
 * resolution completes. Resolving starts with the first subscriber and stops at {@link close}.
 */
export class DnsDiscovery implements Discovery {
  readonly #config: DnsDiscoveryConfig;
  readonly #resolver: Resolver;
  readonly #listeners = new Set<Listener>();
  readonly #label: string;
  #current: readonly BackendSpec[] | undefined;
  #failures = 0;
  // When empty answers after a non-empty set began; undefined while none is pending.
  #emptySince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #round: Promise<void> | undefined;
  #started = false;
  #closed = false;

  constructor(options: DnsDiscoveryOptions) {
    this.#config = readDnsDiscoveryOptions(options);
    const { timeout, tries, resolver } = this.#config;
    this.#resolver = new Resolver({ timeout, tries });
    if (resolver !== undefined) this.#resolver.setServers([formatDnsServerAddress(resolver)]);
    this.#label = `dns ${this.#config.record} ${this.#config.name}`;
  }

  /** E.g. `dns SRV _http._tcp.api.example (3 backends)`. */
  get description(): string {
    if (this.#current === undefined)
      return `${this.#label} (${this.#failures > 0 ? 'resolver failing' : 'resolving'})`;
    const count = this.#current.length;
    const failing = this.#failures > 0 ? ', resolver failing' : '';
    return `${this.#label} (${count} backend${count === 1 ? '' : 's'}${failing})`;
  }

  subscribe(listener: Listener): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    if (this.#current !== undefined) this.#tell(listener, this.#current);
    if (!this.#started) {
      this.#started = true;
      this.#resolve();
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops the timer and cancels queries in flight; resolves once the current round ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#resolver.cancel();
    await this.#round;
  }

  #resolve(): void {
    this.#timer = undefined;
    const abort = new AbortController();
    this.#abort = abort;
    this.#round = lookupBackends(this.#config, this.#resolver, abort.signal).then(
      (lookup) => this.#answered(lookup),
      (error: unknown) => this.#failed(error),
    );
  }

  #answered(lookup: BackendLookup): void {
    if (this.#closed) return;
    const { minTtl, maxTtl, log } = this.#config;
    if (this.#failures > 0) {
      log(`${this.#label}: resolver answers again after ${this.#failures} failed resolution(s)`);
      this.#failures = 0;
    }
    const kept = this.#current?.length ?? 0;
    if (lookup.backends.length === 0 && kept > 0) {
      const now = performance.now();
      this.#emptySince ??= now;
      const waited = now - this.#emptySince;
      if (waited < maxTtl) {
        log(
          `${this.#label}: no records (NXDOMAIN or empty answer); keeping the last ${kept} backend(s) ` +
            `until empty answers persist for ${maxTtl} ms (${Math.round(waited)} ms so far)`,
        );
        this.#schedule(minTtl);
        return;
      }
      log(`${this.#label}: no records for ${Math.round(waited)} ms; the backend set is now empty`);
    }
    this.#emptySince = undefined;
    this.#deliver(lookup.backends);
    const ttl = lookup.ttl === undefined ? minTtl : lookup.ttl * 1000;
    this.#schedule(Math.min(maxTtl, Math.max(minTtl, ttl)));
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    const { minTtl, maxTtl, log } = this.#config;
    this.#failures++;
    // Jitter keeps a fleet of balancers from retrying a struggling DNS server in step.
    const delay = Math.max(minTtl, backoffDelay({ initialDelay: minTtl, maxDelay: maxTtl }, this.#failures));
    const kept =
      this.#current === undefined
        ? 'no backends known yet'
        : `keeping the last ${this.#current.length} backend(s)`;
    log(`${this.#label}: resolver failed (${reason(error)}); ${kept}, retrying in ${delay} ms`);
    this.#schedule(delay);
  }

  #schedule(delay: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#resolve(), delay);
    this.#timer.unref();
  }

  #deliver(backends: readonly BackendSpec[]): void {
    if (this.#current !== undefined && sameBackends(this.#current, backends)) return;
    this.#current = Object.freeze(backends);
    for (const listener of this.#listeners) this.#tell(listener, this.#current);
  }

  // A throwing listener must not stop resolution for the others (it runs from a timer).
  #tell(listener: Listener, backends: readonly BackendSpec[]): void {
    try {
      listener(backends);
    } catch (error) {
      this.#config.log(`${this.#label}: a listener threw: ${reason(error)}`);
    }
  }
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}
