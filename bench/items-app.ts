import express, { type RequestHandler } from 'express';

/**
 * The one-route Express app every Express bench measures (`GET /api/items/:id` answering JSON),
 * behind `middleware` when given. Prints `port N` once listening on a free loopback port and
 * exits when stdin closes, so the parent bench controls its lifetime.
 */
export function serveItems(middleware: RequestHandler | undefined): void {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
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
}
