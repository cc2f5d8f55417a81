/**
 * node-http-proxy (npm `http-proxy` 1.18.1), as most Node balancers in the wild are built: one
 * keep-alive agent, round robin over the backends, nothing else. Exits 3 with a message when the
 * package is not installed, so the benchmark can skip this variant.
 *
 *   node bench/balancer-http-proxy.ts http://127.0.0.1:9001 http://127.0.0.1:9002
 *
 * Listens on 127.0.0.1, port 0, prints `port <n>`; exits on SIGTERM or when stdin closes.
 */
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface HttpProxyServer {
  web(req: unknown, res: unknown, options: { target: string }): void;
  on(
    event: 'error',
    listener: (
      error: Error,
      req: unknown,
      res: { headersSent: boolean; writeHead(s: number): { end(): void }; destroy(): void },
    ) => void,
  ): void;
}
interface HttpProxyModule {
  createProxyServer(options: { agent: Agent; xfwd?: boolean }): HttpProxyServer;
}

const backends = process.argv.slice(2);
if (backends.length === 0) {
  console.error('usage: node balancer-http-proxy.ts <backend url>...');
  process.exit(2);
}

// Through a variable: the bench typechecks whether or not the package is installed.
const HTTP_PROXY_PACKAGE = 'http-proxy';
let httpProxy: HttpProxyModule;
try {
  httpProxy = ((await import(HTTP_PROXY_PACKAGE)) as { default: HttpProxyModule }).default;
} catch {
  console.error('http-proxy is not installed (add "http-proxy": "1.18.1" to bench devDependencies)');
  process.exit(3);
}

/** As many sockets per backend as the benches' client opens. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ agent });
// Without an error listener http-proxy throws on ECONNRESET and takes the process down.
proxy.on('error', (_error, _req, res) => {
  if (res.headersSent) res.destroy();
  else res.writeHead(502).end();
});

let next = 0;
const server = createServer((req, res) => {
  proxy.web(req, res, { target: backends[next++ % backends.length]! });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`port ${(server.address() as AddressInfo).port}`);
});

function stop(): void {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  setTimeout(() => process.exit(0), 200).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop).resume();
