import { connect } from 'node:net';
import { setImmediate } from 'node:timers/promises';

/** What came back on one raw connection. */
export interface RawExchange {
  /** Every byte the server sent. */
  readonly received: Buffer;
  /** The server closed its side (FIN or reset) within the bound. */
  readonly closed: boolean;
  /** The connection ended in a reset (ECONNRESET, EPIPE) rather than a FIN. */
  readonly reset: boolean;
  /** Neither an answer nor a close within `hangMs` of the client finishing: a hang. */
  readonly hung: boolean;
  /** From connecting to the end of the exchange. */
  readonly elapsedMs: number;
}

/** What to do once some bytes have arrived. */
export type Progress = 'wait' | 'finish' | 'drop';

/**
 * Sends `chunks` (one write each, a turn of the event loop apart, so that they tend to arrive
 * as separate segments) to `127.0.0.1:port` over a raw TCP connection and collects the answer.
 *
 * The client then finishes: at once when `endAfterWrite`, otherwise when `progress` says a
 * whole answer is in (`'finish'`) or after `quietMs` without one, by half-closing its side.
 * An HTTP/1.1 server must then answer what it has and close. `'drop'` destroys the connection
 * instead (a stream that never ends). An exchange still open `hangMs` after the client finished
 * is a hang, and is cut.
 */
export async function exchangeRaw(options: {
  port: number;
  chunks: readonly Buffer[];
  endAfterWrite: boolean;
  quietMs: number;
  hangMs: number;
  progress: (received: Buffer) => Progress;
}): Promise<RawExchange> {
  const started = performance.now();
  const socket = connect({ host: '127.0.0.1', port: options.port, allowHalfOpen: true });
  const received: Buffer[] = [];
  let size = 0;
  let reset = false;
  let finished = false;
  let quietTimer: NodeJS.Timeout | undefined;
  let hangTimer: NodeJS.Timeout | undefined;
  const outcome = new Promise<{ hung: boolean; closed: boolean }>((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(quietTimer);
      if (!socket.destroyed) socket.end();
      hangTimer = setTimeout(() => {
        socket.destroy();
        resolve({ hung: true, closed: false });
      }, options.hangMs);
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      size += chunk.length;
      const next = options.progress(Buffer.concat(received, size));
      if (next === 'drop') {
        clearTimeout(quietTimer);
        clearTimeout(hangTimer);
        socket.destroy();
        resolve({ hung: false, closed: true });
      } else if (next === 'finish') {
        finish();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
      else if (error.code === 'ECONNREFUSED') reset = true;
    });
    // The server's FIN: with allowHalfOpen the socket stays writable; the exchange is over.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(quietTimer);
      clearTimeout(hangTimer);
      resolve({ hung: false, closed: true });
    });
    socket.once('connect', async () => {
      for (const chunk of options.chunks) {
        if (socket.destroyed || finished) return;
        socket.write(chunk);
        await setImmediate();
      }
      if (options.endAfterWrite) finish();
      else if (!finished) quietTimer = setTimeout(finish, options.quietMs);
    });
  });
  const { hung, closed } = await outcome;
  return {
    received: Buffer.concat(received, size),
    closed,
    reset,
    hung,
    elapsedMs: performance.now() - started,
  };
}
