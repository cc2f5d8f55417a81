import type { ServerResponse } from 'node:http';

/** Settings of an {@link EventStreamHub}. */
export interface EventStreamHubOptions {
  /** Streams open at once; one more is refused. */
  readonly maxClients: number;
  /** Time between two ticks, in ms; ticks fall just after multiples of it on the performance clock. */
  readonly intervalMs: number;
  /** A comment line goes out at least this often, in ms, so idle-connection reapers keep away. */
  readonly heartbeatMs: number;
  /** Reconnection delay the clients are told (`retry:`), in ms. */
  readonly retryMs: number;
  /** The events every client gets at each tick, already in text/event-stream form; must not throw. */
  readonly tick: () => string;
}

/** What {@link EventStreamHub.open} did with a request. */
export type OpenResult = 'opened' | 'full' | 'closed';

// A client this far behind is not reading: it is cut rather than buffered for.
const MAX_BUFFERED_BYTES = 1 << 20;
// Past the interval boundary, so the second that just ended is whole when the tick reads it.
const TICK_OFFSET_MS = 25;

/**
 * The open Server-Sent Events streams of one endpoint. Runs a timer only while a stream is
 * open, writes every client the same text at each tick, cuts clients that stop reading, and
 * ends every stream on {@link close} so a server shutting down never waits on an open tab.
 */
export class EventStreamHub {
  readonly #options: EventStreamHubOptions;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #lastBeat = 0;
  #closed = false;

  constructor(options: EventStreamHubOptions) {
    this.#options = options;
  }

  /** Streams open now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Starts a stream on `res` with `first` (already formatted events), unless the hub is full
   * or closed; then the caller answers the request itself.
   */
  open(res: ServerResponse, first: string): OpenResult {
    if (this.#closed) return 'closed';
    if (this.#clients.size >= this.#options.maxClients) return 'full';
    res.writeHead(200, [
      'Content-Type',
      'text/event-stream; charset=utf-8',
      'Cache-Control',
      'no-store',
      'X-Content-Type-Options',
      'nosniff',
      // Reverse proxies such as nginx buffer responses unless told not to.
      'X-Accel-Buffering',
      'no',
      // Ending the stream (shutdown) then also closes its connection.
      'Connection',
      'close',
    ]);
    res.write(`retry: ${this.#options.retryMs}\n\n${first}`);
    this.#clients.add(res);
    res.on('close', () => this.#forget(res));
    if (this.#timer === undefined) this.#schedule();
    return 'opened';
  }

  /** Ends every stream with `last` (formatted events) and refuses new ones. Idempotent. */
  close(last = ''): void {
    this.#closed = true;
    this.#stop();
    const clients = [...this.#clients];
    this.#clients.clear();
    for (const res of clients) res.end(last);
  }

  #forget(res: ServerResponse): void {
    this.#clients.delete(res);
    if (this.#clients.size === 0) this.#stop();
  }

  #schedule(): void {
    const interval = this.#options.intervalMs;
    const delay = interval - (performance.now() % interval) + TICK_OFFSET_MS;
    this.#timer = setTimeout(() => this.#tick(), delay);
    // The open sockets keep the process alive while anyone listens; the timer never should.
    this.#timer.unref();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#clients.size === 0) return;
    this.#schedule();
    let text = this.#options.tick();
    const now = performance.now();
    if (now - this.#lastBeat >= this.#options.heartbeatMs) {
      this.#lastBeat = now;
      text += ': heartbeat\n\n';
    }
    for (const res of this.#clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
      else res.write(text);
    }
  }
}

/** One event in text/event-stream form; `data` must hold no line break (JSON never does). */
export function formatEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}
