/**
 * The floor for a Node proxy: node:http in front of one undici Pool per backend, round robin, no
 * features (no health checks, retries, timeouts beyond undici's, header rewriting beyond dropping
 * hop-by-hop headers). What any balancer written in Node pays for parsing and forwarding.
 *
 *   node bench/balancer-naive-undici-proxy.ts http://127.0.0.1:9001 http://127.0.0.1:9002
 *
 * Listens on 127.0.0.1, port 0 (or PORT), prints `port <n>`; exits on SIGTERM or when stdin closes.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const backends = process.argv.slice(2);
if (backends.length === 0) {
  console.error('usage: node balancer-naive-undici-proxy.ts <backend url>...');
  process.exit(2);
}
/** As many upstream connections per backend as the benches' client opens: no request waits for one. */
const CONNECTIONS = 64;
const pools = backends.map((origin) => new Pool(origin, { connections: CONNECTIONS }));
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
];

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

let next = 0;
const server = createServer(async (req, res) => {
  const pool = pools[next++ % pools.length]!;
  try {
    // pool.stream writes the body straight into `res`: about twice the throughput of
    // pool.request + pipeline on this kind of machine, and what a careful naive proxy would use.
    await pool.stream(
      {
        method: req.method as 'GET',
        path: req.url ?? '/',
        headers: forwardable(req.headers),
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, forwardable(headers));
        return res;
      },
    );
  } catch {
    if (!res.headersSent) {
      res.writeHead(502).end();
    } else {
      res.destroy();
    }
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`port ${(server.address() as AddressInfo).port}`);
});

function stop(): void {
  server.close();
  server.closeAllConnections();
  for (const pool of pools) void pool.destroy();
  setTimeout(() => process.exit(0), 200).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop).resume();
