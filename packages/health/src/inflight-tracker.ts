import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Counts in-flight requests on the servers it watches and, once draining, marks every
 * response `Connection: close` so keep-alive clients stop reusing a socket the server is
 * about to close (the ECONNRESET race of pooled idle sockets). Node itself keeps answering
 * `Connection: keep-alive` on requests in flight at `server.close()`.
 */
export class InflightTracker {
  readonly #responses = new Set<ServerResponse>();
  readonly #servers = new Set<Server>();
  #draining = false;
  #idleWaiters: Array<() => void> = [];

  /** Requests whose response has not closed yet. */
  get size(): number {
    return this.#responses.size;
  }

  get servers(): ReadonlySet<Server> {
    return this.#servers;
  }

  /** Watches a server's requests. Runs before the server's other request listeners. */
  watch(server: Server): boolean {
    if (this.#servers.has(server)) return false;
    this.#servers.add(server);
    server.prependListener('request', this.#onRequest);
    return true;
  }

  unwatch(server: Server): void {
    if (!this.#servers.delete(server)) return;
    server.removeListener('request', this.#onRequest);
  }

  /** From now on every response not yet started closes its connection. */
  startDraining(): void {
    this.#draining = true;
    for (const res of this.#responses) closeAfter(res);
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.#responses.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  finished(res: ServerResponse): void {
    if (!this.#responses.delete(res)) return;
    if (this.#draining) {
      // The socket this response used is idle now: close it before the client reuses it.
      for (const server of this.#servers) server.closeIdleConnections();
    }
    if (this.#responses.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  readonly #onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.#responses.add(res);
    // 'close' fires once per response, after 'finish' or on abort. A closure rather than a
    // property on `res`, so Node's response objects keep their shape.
    res.on('close', () => this.finished(res));
    if (this.#draining) closeAfter(res);
  };
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
