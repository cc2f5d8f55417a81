/**
 * The server cpu-per-request.sh measures: one Express 5 JSON route behind one middleware, chosen
 * by argv[2]. Isolates what each part of trace propagation costs per request. Writes `port <n>`
 * once listening; exits when stdin closes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Tracing } from '@readykit/tracing';
import type { RequestHandler } from 'express';
import { serveItems } from './items-app.ts';

const MODES = ['bare', 'empty', 'als', 'request-id', 'tracing'] as const;
type Mode = (typeof MODES)[number];

function middlewareFor(mode: Mode): RequestHandler | undefined {
  switch (mode) {
    case 'bare':
      return undefined;
    case 'empty':
      return (_req, _res, next) => next();
    case 'als': {
      // What carrying any context across the request's awaits takes.
      const als = new AsyncLocalStorage<number>();
      return (_req, _res, next) => als.run(1, next);
    }
    case 'request-id':
      // Generating and echoing a request id, nothing else.
      return (_req, res, next) => {
        res.setHeader('x-request-id', crypto.randomUUID());
        next();
      };
    case 'tracing': {
      const tracing = new Tracing();
      return (req, res, next) => tracing.handle(req, res, next);
    }
  }
}

const mode = process.argv[2] as Mode;
if (!MODES.includes(mode)) {
  console.error(
    `cpu-cost-server: unknown mode ${JSON.stringify(String(mode).slice(0, 40))}; one of ${MODES.join(', ')}`,
  );
  process.exit(2);
}
serveItems(middlewareFor(mode));
