import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';

/** A backend that answers, then at a word accepts connections and reads requests but never answers. */
export interface HangingBackend {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections open right now. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** From now on nothing is answered, on new connections or on those already open. */
  hang(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

const OK = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n');

/**
 * Starts the backend on a free loopback port. While healthy it answers every request head with
 * a keep-alive 200 (requests without bodies, as the balancer's GETs and probes are); once hung
 * it is a process whose event loop is stuck behind a socket the kernel keeps accepting: the
 * worst backend for a proxy, since connecting succeeds and only time tells.
 */
export async function startHangingBackend(): Promise<HangingBackend> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let hung = false;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      if (hung) return; // read and dropped: the peer's writes never block, nothing comes back
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        socket.write(OK);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get open() {
      return sockets.size;
    },
    get accepted() {
      return accepted;
    },
    hang: () => {
      hung = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
