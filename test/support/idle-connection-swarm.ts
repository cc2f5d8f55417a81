import { connect, type Socket } from 'node:net';

/** Many client connections held open against one server. */
export interface ConnectionSwarm {
  /** Connections still open. */
  readonly open: number;
  /** Milliseconds from opening to the server closing it, for each connection the server closed. */
  readonly closedAfterMs: readonly number[];
  /** Closes every connection still open. */
  close(): void;
}

const BATCH = 100;

class Swarm implements ConnectionSwarm {
  readonly sockets = new Set<Socket>();
  readonly closedAfterMs: number[] = [];
  #closing = false;
  #timers: NodeJS.Timeout[] = [];

  get open(): number {
    return this.sockets.size;
  }

  track(socket: Socket, openedAt: number): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (!this.#closing) this.closedAfterMs.push(performance.now() - openedAt);
    });
  }

  every(ms: number, tick: () => void): void {
    this.#timers.push(setInterval(tick, ms));
  }

  close(): void {
    this.#closing = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Opens `count` connections, `BATCH` at a time (the listen backlog is finite), each through `setup`. */
async function openAll(
  swarm: Swarm,
  port: number,
  count: number,
  setup: (socket: Socket) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, count - i) }, async () => {
        const socket = connect({ host: '127.0.0.1', port });
        swarm.track(socket, performance.now());
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        await setup(socket);
      }),
    );
  }
}

/**
 * `count` idle keep-alive connections, as browsers and pooling clients leave them: each sends
 * one complete GET `path`, reads the answer, then stays open and silent.
 */
export async function openIdleConnections(
  port: number,
  count: number,
  path: string,
): Promise<ConnectionSwarm> {
  const swarm = new Swarm();
  await openAll(swarm, port, count, async (socket) => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        const m = /\r\ncontent-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(head);
        if (m && head.length - (m.index + m[0].length) >= Number(m[1])) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('an idle connection was closed before its first answer')));
    });
  });
  return swarm;
}

/**
 * `count` slowloris connections: each sends a request line, then one byte of a never-ending
 * header block every `intervalMs`, holding the server's connection open for as long as the
 * server lets it.
 */
export async function startSlowloris(
  port: number,
  count: number,
  intervalMs: number,
): Promise<ConnectionSwarm> {
  const swarm = new Swarm();
  await openAll(swarm, port, count, async (socket) => {
    socket.write(`GET /api/items/1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
  });
  // Each connection drips on its own phase, spread over the interval, as independent clients
  // would: not one burst of `count` writes a second.
  const sockets = [...swarm.sockets];
  const slots = Math.max(1, Math.round(intervalMs / 10));
  let tick = 0;
  swarm.every(intervalMs / slots, () => {
    const slot = tick++ % slots;
    for (let i = slot; i < sockets.length; i += slots) if (sockets[i]!.writable) sockets[i]!.write('a');
  });
  return swarm;
}
