import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';

type Listening = { server?: unknown };

/** The `asyncEnd` event of Node's `net.server.listen` tracing channel: the server is listening. */
const LISTEN_CHANNEL = 'tracing:net.server.listen:asyncEnd';

/**
 * Finds the server `app.listen()` creates without a second line of user code: Node
 * publishes every `server.listen()` on the `net.server.listen` tracing channel, and the
 * server whose request listener is an Express app using our middleware is ours.
 */
export class ServerDiscovery {
  readonly #middleware: unknown;
  readonly #onServer: (server: Server) => void;
  readonly #onListen = (message: unknown): void => this.#inspect((message as Listening).server);

  constructor(middleware: unknown, onServer: (server: Server) => void) {
    this.#middleware = middleware;
    this.#onServer = onServer;
    subscribe(LISTEN_CHANNEL, this.#onListen);
  }

  close(): void {
    unsubscribe(LISTEN_CHANNEL, this.#onListen);
  }

  #inspect(server: unknown): void {
    if (!isHttpServer(server)) return;
    for (const listener of server.listeners('request')) {
      if (usesMiddleware(listener, this.#middleware, 0)) {
        this.#onServer(server);
        return;
      }
    }
  }
}

function isHttpServer(value: unknown): value is Server {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Server).closeIdleConnections === 'function' &&
    typeof (value as Server).listeners === 'function'
  );
}

interface Layer {
  handle?: unknown;
}

/** Walks an Express 5 (`app.router`) or 4 (`app._router`) app and its mounted routers and sub-apps. */
function usesMiddleware(handler: unknown, middleware: unknown, depth: number): boolean {
  if (handler === middleware) return true;
  if (depth > 8 || typeof handler !== 'function') return false;
  const candidate = handler as {
    stack?: unknown;
    _router?: { stack?: unknown };
    router?: { stack?: unknown };
  };
  // Express 5 creates `app.router` lazily on first use; read it only when it is a data property or already made.
  const stack =
    candidate.stack ??
    candidate._router?.stack ??
    (hasRouter(candidate) ? candidate.router?.stack : undefined);
  if (!Array.isArray(stack)) return false;
  return stack.some((layer: Layer) => usesMiddleware(layer.handle, middleware, depth + 1));
}

function hasRouter(app: object): boolean {
  return typeof (app as { handle?: unknown }).handle === 'function' && 'router' in app;
}
