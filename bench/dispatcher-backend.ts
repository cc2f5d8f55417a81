/**
 * A backend of the dispatcher bench (dispatcher.ts): plain node:http on a free loopback port,
 * `GET /readyz` answers 200 at once (the dispatcher's readiness checks), `GET /requests` how many
 * application calls it answered so far (so the bench can tell how a client spread its calls), every
 * other path a small JSON body, `DELAY_MS` late (default 0). Prints `listening on http://127.0.0.1:N` once serving
 * and exits when stdin closes, so the parent bench controls its lifetime.
 *
 *   DELAY_MS=50 node bench/dispatcher-backend.ts
 */
import { createServer } from 'node:http';

const delayMs = Number(process.env.DELAY_MS ?? '0');
if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 60_000) {
  console.error(`dispatcher-backend: DELAY_MS must be an integer 0..60000, got ${process.env.DELAY_MS}`);
  process.exit(2);
}

const READY = Buffer.from('ready\n');
const BODY = Buffer.from('{"id":1,"name":"item 1"}');

let answered = 0;

const server = createServer((req, res) => {
  if (req.url === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': READY.length });
    res.end(READY);
    return;
  }
  if (req.url === '/requests') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${answered}\n`);
    return;
  }
  answered++;
  const answer = (): void => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length });
    res.end(BODY);
  };
  // The degraded backend is slow at its application, not at its readiness endpoint: as a service
  // with a slow dependency would be, so only latency-aware balancing can avoid it.
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
});
// The bench's clients keep connections open for the whole run; Node's 5 s default would close idle ones between rounds.
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
