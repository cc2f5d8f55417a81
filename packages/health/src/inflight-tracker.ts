import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Node sets this on a socket to the response it is writing (http `assignSocket`). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Counts in-flight requests on the servers it watches and, once draining, marks every
 * response `Connection: close` so keep-alive clients stop reusing a socket the server is
 * about to close (the ECONNRESET race of pooled idle sockets). Node itself keeps answering
 * `Connection: keep-alive` on requests in flight at `server.close()`.
 *
 * This runs on every request, so it keeps no per-response collection: counts are kept per
 * socket (long-lived under keep-alive, so hashed once per connection, not per request),
 * the close listener is one shared function, and at drain time each busy socket's current
 * response is reached through `socket._httpMessage`.
 */
export class InflightTracker {
  readonly #busy = new Map<HttpSocket, number>();
  readonly #servers = new Set<Server>();
  #size = 0;
  #draining = false;
  #idleWaiters: Array<() => void> = [];
  readonly #onClose: (this: ServerResponse) => void;

  constructor() {
    const tracker = this;
    // A plain function: EventEmitter calls it with `this` = the response, no closure per request.
    this.#onClose = function onResponseClose(this: ServerResponse) {
      tracker.#finished(this.req.socket as HttpSocket);
    };
  }

  /** Requests whose response has not closed yet. */
  get size(): number {
    return this.#size;
  }

  get servers(): ReadonlySet<Server> {
    return this.#servers;
  }

  /**
   * Watches a server's requests with a listener that runs before the server's others; with
   * `listen: false` the caller feeds `track()` itself from a listener it already has.
   */
  watch(server: Server, listen = true): boolean {
    if (this.#servers.has(server)) return false;
    this.#servers.add(server);
    if (listen) server.prependListener('request', this.#onRequest);
    return true;
  }

  unwatch(server: Server): void {
    if (!this.#servers.delete(server)) return;
    server.removeListener('request', this.#onRequest);
  }

  /** Counts one request in flight until its response closes. */
  track(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as HttpSocket;
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    this.#size++;
    res.on('close', this.#onClose);
    if (this.#draining) closeAfter(res);
  }

  /** From now on every response not yet started closes its connection. */
  startDraining(): void {
    this.#draining = true;
    for (const socket of this.#busy.keys()) {
      const res = socket._httpMessage;
      if (res != null) closeAfter(res);
    }
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #finished(socket: HttpSocket): void {
    const count = this.#busy.get(socket);
    if (count === undefined) return;
    if (count > 1) this.#busy.set(socket, count - 1);
    else this.#busy.delete(socket);
    this.#size--;
    if (this.#draining) {
      // The socket this response used is idle now: close it before the client reuses it.
      for (const server of this.#servers) server.closeIdleConnections();
    }
    if (this.#size === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.track(req, res);
  };
}

function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
