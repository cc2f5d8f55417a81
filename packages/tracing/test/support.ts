import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type Served, serve } from '../../../test/support/loopback-server.ts';
import { Tracing, type TracingOptions } from '../src/index.ts';

export { type Served, serve };

/** A request as `Tracing.contextFor` sees it: only the headers matter, raw and parsed. */
export function fakeRequest(headers: IncomingHttpHeaders): IncomingMessage {
  const rawHeaders = Object.entries(headers).flatMap(([name, value]) =>
    Array.isArray(value) ? value.flatMap((v) => [name, v]) : value === undefined ? [] : [name, value],
  );
  return { headers, rawHeaders } as IncomingMessage;
}

/** A downstream that records the headers of every request it gets; `hang` keeps it from answering. */
export async function serveRecorder(options: { hang?: boolean } = {}) {
  const seen: IncomingHttpHeaders[] = [];
  const served = await serve((req, res) => {
    seen.push(req.headers);
    if (!options.hang) res.end('down');
  });
  return Object.assign(served, { seen });
}

/**
 * A server whose every request runs `app` inside `tracing.handle()`, answering with whatever
 * `app` returns as JSON (or 500 with the error's code).
 */
export async function serveTraced(
  options: TracingOptions,
  app: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
): Promise<Served & { tracing: Tracing }> {
  const tracing = new Tracing({ warn: () => {}, ...options });
  const served = await serve((req, res) => {
    tracing.handle(req, res, () => {
      app(req, res).then(
        (body) => {
          if (!res.headersSent) res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(body ?? null));
        },
        (error: { code?: string; cause?: { code?: string } }) => {
          res.statusCode = 500;
          res.end(JSON.stringify({ code: error.code ?? error.cause?.code ?? 'unknown' }));
        },
      );
    });
  });
  return {
    ...served,
    tracing,
    close: async () => {
      await served.close();
      tracing.close();
    },
  };
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}
