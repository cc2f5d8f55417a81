/**
 * The server under test for express-overhead.ts, one process per variant, spawned with
 * the variant name as its only argument. One JSON route with a path parameter, as in
 * the anchors measured for this project (`GET /api/items/:id`). Writes `port <n>` once
 * listening; exits when its stdin closes, so it never outlives the bench.
 */
import { readykit, Tracing } from '@readykit/express';
import express, { type RequestHandler } from 'express';
import promBundle from 'express-prom-bundle';
import { VARIANTS, type Variant } from './express-variants.ts';

function middlewareFor(variant: Variant): RequestHandler | undefined {
  switch (variant) {
    case 'bare':
      return undefined;
    case 'empty-middleware':
      // The floor for any middleware: what Express itself charges for one more layer.
      return (_req, _res, next) => next();
    case 'propagation': {
      // Trace, request-id and deadline propagation alone, as @readykit/tracing runs it in the kit.
      const tracing = new Tracing();
      return (req, res, next) => tracing.handle(req, res, next);
    }
    case 'readykit':
    case 'readykit-otel-sdk':
      // What the README tells users to add; signals are left to the bench that spawned us.
      return readykit({ shutdown: { signals: [], exit: false } });
    case 'otel-sdk':
      // Instrumented by the SDK preloaded with --import; no middleware of its own.
      return undefined;
    case 'express-prom-bundle':
      // The configuration the anchors used: method, path and status labels.
      return promBundle({ includeMethod: true, includePath: true, includeStatusCode: true });
  }
}

const variant = process.argv[2] as Variant;
if (!VARIANTS.includes(variant)) {
  console.error(`express-server: unknown variant ${JSON.stringify(variant)}; one of ${VARIANTS.join(', ')}`);
  process.exit(2);
}
const app = express();
app.disable('x-powered-by');
app.disable('etag');
const middleware = middlewareFor(variant);
if (middleware !== undefined) app.use(middleware);
app.get('/api/items/:id', (req, res) => {
  res.json({ id: req.params.id, name: `item ${req.params.id}` });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`port ${address.port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
