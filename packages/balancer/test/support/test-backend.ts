import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real loopback backend whose readiness and behaviour a test controls. */
export interface TestBackend {
  readonly url: string;
  readonly server: Server;
  /** Status `/readyz` answers. */
  readyStatus: number;
  /** Requests seen (probes excluded). */
  readonly seen: IncomingMessage[];
  /** Answers non-probe requests; default: 200 with the backend's name. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startTestBackend(name: string, port = 0): Promise<TestBackend> {
  const backend: TestBackend = {
    url: '',
    server: undefined as unknown as Server,
    readyStatus: 200,
    seen: [],
    handler: (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(name);
    },
    close: async () => {},
  };
  const server = createServer((req, res) => {
    if (req.url === '/readyz') {
      res.statusCode = backend.readyStatus;
      res.end(backend.readyStatus === 200 ? 'ok\n' : 'not ready\n');
      return;
    }
    backend.seen.push(req);
    backend.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  Object.assign(backend, {
    url: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return backend;
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
