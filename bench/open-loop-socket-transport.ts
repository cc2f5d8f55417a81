/**
 * An open-loop transport for rates an undici Pool cannot drive from one core: raw keep-alive
 * sockets, one request in flight on each, a FIFO of requests waiting for a free socket, and just
 * enough HTTP/1.1 parsing (status, Content-Length or chunked) to know when a response is whole.
 * Same reasoning as probe-load.ts's ProbeClient: the client's own CPU lands in the percentiles.
 */
import { connect, type Socket } from 'node:net';
import type { OpenLoopTransport } from './open-loop-load.ts';

interface Pending {
  readonly path: string;
  readonly done: (status: number) => void;
}

/** Opens `connections` keep-alive sockets to `origin` (http, loopback); requests beyond them queue. */
export async function socketTransport(origin: string, connections = 64): Promise<OpenLoopTransport> {
  const url = new URL(origin);
  const host = url.host;
  const idle: LeanSocket[] = [];
  const queue: (Pending | undefined)[] = [];
  let head = 0;
  const takeNext = (socket: LeanSocket): void => {
    if (head < queue.length) {
      const next = queue[head]!;
      queue[head++] = undefined;
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      socket.send(next);
    } else {
      idle.push(socket);
    }
  };
  const sockets = await Promise.all(
    Array.from({ length: connections }, () =>
      LeanSocket.open(Number(url.port), url.hostname, host, takeNext),
    ),
  );
  return {
    send(path, done) {
      const socket = idle.pop();
      if (socket !== undefined) socket.send({ path, done });
      else if (sockets.every((s) => !s.open)) done(0);
      else queue.push({ path, done });
    },
    async close() {
      for (const s of sockets) s.destroy();
      for (let i = head; i < queue.length; i++) queue[i]?.done(0);
      queue.length = 0;
    },
  };
}

/**
 * One keep-alive connection. A connection the server closes (nginx does after 1000 requests by
 * default) is reopened at once; it takes requests again once connected.
 */
class LeanSocket {
  readonly #port: number;
  readonly #hostname: string;
  readonly #host: string;
  readonly #onFree: (socket: LeanSocket) => void;
  #socket: Socket | undefined;
  #buffer = '';
  #pending: Pending | undefined;
  /** In the transport's idle list: it must not be listed twice. */
  #listed = false;
  #destroyed = false;

  private constructor(port: number, hostname: string, host: string, onFree: (socket: LeanSocket) => void) {
    this.#port = port;
    this.#hostname = hostname;
    this.#host = host;
    this.#onFree = onFree;
  }

  static async open(
    port: number,
    hostname: string,
    host: string,
    onFree: (socket: LeanSocket) => void,
  ): Promise<LeanSocket> {
    const lean = new LeanSocket(port, hostname, host, onFree);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, hostname, () => {
        lean.#attach(socket);
        lean.#free();
        resolve();
      });
      socket.once('error', reject);
    });
    return lean;
  }

  get open(): boolean {
    return !this.#destroyed;
  }

  /** Writes `request` now, or once reconnected when the server closed this connection meanwhile. */
  send(request: Pending): void {
    this.#listed = false;
    this.#pending = request;
    this.#buffer = '';
    this.#socket?.write(`GET ${request.path} HTTP/1.1\r\nHost: ${this.#host}\r\n\r\n`);
  }

  #free(): void {
    this.#listed = true;
    this.#onFree(this);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#socket?.destroy();
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#socket = undefined;
      // A request written and not answered fails (a real keep-alive race, not hidden).
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.done(0);
      if (!this.#destroyed) this.#reconnect();
    });
  }

  #reconnect(): void {
    const socket = connect(this.#port, this.#hostname, () => {
      if (this.#destroyed) {
        socket.destroy();
        return;
      }
      this.#attach(socket);
      const waiting = this.#pending;
      if (waiting !== undefined) this.send(waiting);
      else if (!this.#listed) this.#free();
    });
    // A failed reconnect leaves this connection out of rotation; the others carry on.
    socket.once('error', () => {});
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    const pending = this.#pending;
    if (pending === undefined) return;
    const headerEnd = this.#buffer.indexOf('\r\n\r\n');
    if (headerEnd === -1) return;
    const head = this.#buffer.slice(0, headerEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length !== null) {
      if (this.#buffer.length < headerEnd + 4 + Number(length[1])) return;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      // Small test bodies only: the last chunk ends the response.
      if (!this.#buffer.endsWith('0\r\n\r\n')) return;
    } else {
      this.#socket?.destroy();
      return;
    }
    const status = Number(this.#buffer.slice(9, 12));
    this.#pending = undefined;
    this.#buffer = '';
    pending.done(status);
    // The server closes after this response: the socket comes back once reconnected.
    if (/\r\nconnection: *close/i.test(head)) return;
    this.#free();
  }
}
