import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

/** One Server-Sent Event as a client sees it. */
export interface ReceivedEvent {
  readonly event: string;
  readonly data: string;
}

/** A text/event-stream read with plain node:http, parsed as it arrives. */
export interface EventStreamClient {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every event so far, in order. */
  readonly events: ReceivedEvent[];
  /** Every line so far, comments and fields included. */
  readonly lines: string[];
  /** Resolves once the server ends the stream. */
  readonly ended: Promise<void>;
  /** The body, for answers that are not a stream (503, 401). */
  text(): Promise<string>;
  /** Resolves with the first event (from the `after`-th on) for which `predicate` holds. */
  next(
    predicate: (event: ReceivedEvent) => boolean,
    timeoutMs?: number,
    after?: number,
  ): Promise<ReceivedEvent>;
  /** Stops reading: the server's writes pile up. */
  pause(): void;
  resume(): void;
  close(): void;
}

/** Opens `url` as an event stream; resolves once the response head arrived. */
export function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      resolve(clientOf(res, () => req.destroy()));
    });
    req.on('error', reject);
    req.end();
  });
}

function clientOf(res: IncomingMessage, destroy: () => void): EventStreamClient {
  const events: ReceivedEvent[] = [];
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let body = '';
  let event = '';
  let data: string[] = [];
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    body += chunk;
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      if (line === '') {
        if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      newline = buffer.indexOf('\n');
    }
    for (const wake of waiters) wake();
  });
  const ended = new Promise<void>((resolve) => {
    res.on('end', resolve);
    res.on('close', resolve);
    res.on('error', () => resolve());
  });
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    events,
    lines,
    ended,
    text: async () => {
      await ended;
      return body;
    },
    next(predicate, timeoutMs = 3000, after = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(after).find(predicate);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms (${events.length} events)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    pause: () => res.pause(),
    resume: () => res.resume(),
    close: destroy,
  };
}
