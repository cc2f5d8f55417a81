import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node points a socket at the response it is writing (`socket._httpMessage`, set from the
 * response's creation until it finishes, by http's assignSocket/detachSocket). Internal, but
 * unchanged for a decade; it lets readykit find in-flight responses without touching each one.
 */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Knows what is in flight on the servers it watches, at no cost per request: it follows
 * connections (once each), and a connection is busy while Node is writing a response on it.
 * Only once draining starts does it touch requests: every response not yet started gets
 * `Connection: close`, so keep-alive clients stop reusing a socket the server is about to
 * close (the ECONNRESET race of pooled idle sockets; Node itself keeps answering
 * `Connection: keep-alive` on requests in flight at `server.close()`), and each one is
 * counted until it closes.
 */
export class InflightTracker {
  readonly #sockets = new Set<HttpSocket>();
  readonly #servers = new Set<Server>();
  readonly #draining = new Set<ServerResponse>();
  #isDraining = false;
  #idleWaiters: Array<() => void> = [];

  /** Requests whose response has not closed yet (exact while draining, busy connections before). */
  get size(): number {
    if (this.#isDraining) return this.#draining.size;
    let busy = 0;
    for (const socket of this.#sockets) if (socket._httpMessage != null) busy++;
    return busy;
  }

  get servers(): ReadonlySet<Server> {
    return this.#servers;
  }

  watch(server: Server): boolean {
    if (this.#servers.has(server)) return false;
    this.#servers.add(server);
    server.on('connection', this.#onConnection);
    if (this.#isDraining) server.prependListener('request', this.#onDrainingRequest);
    return true;
  }

  unwatch(server: Server): void {
    if (!this.#servers.delete(server)) return;
    server.removeListener('connection', this.#onConnection);
    server.removeListener('request', this.#onDrainingRequest);
  }

  /**
   * Adopts the connection of a request that arrived before the server was watched (the
   * first request of a server attached late), so its response is found when draining.
   */
  adopt(req: IncomingMessage): void {
    this.#onConnection(req.socket);
  }

  /** From now on every response not yet started closes its connection, and each is counted. */
  startDraining(): void {
    if (this.#isDraining) return;
    this.#isDraining = true;
    for (const socket of this.#sockets) {
      const res = socket._httpMessage;
      if (res != null) this.#drainResponse(res);
    }
    for (const server of this.#servers) server.prependListener('request', this.#onDrainingRequest);
  }

  /** Resolves when no request is in flight (meaningful once draining). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  readonly #onConnection = (socket: Socket): void => {
    const s = socket as HttpSocket;
    if (this.#sockets.has(s)) return;
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
  };

  readonly #onDrainingRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.#drainResponse(res);
  };

  #drainResponse(res: ServerResponse): void {
    if (this.#draining.has(res)) return;
    if (!res.headersSent) res.setHeader('Connection', 'close');
    this.#draining.add(res);
    const socket = res.socket as HttpSocket | null;
    res.once('close', () => this.#finished(res, socket));
  }

  #finished(res: ServerResponse, socket: HttpSocket | null): void {
    this.#draining.delete(res);
    // The socket this response used may be idle now (its response began before draining, with
    // keep-alive): close it before its client reuses it. Only this one: closing every idle
    // connection here would reset other clients' pooled sockets mid-delay, at moments they
    // cannot foresee; those get `Connection: close` on their next request, and server.close()
    // closes the rest when the server stops accepting.
    if (socket !== null && !socket.destroyed && socket._httpMessage == null) socket.destroy();
    if (this.#draining.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
