// Scaffolding shared by the terminus tests: terminus-flaws.test.ts pins what terminus itself does,
// terminus-adapter.test.ts what readykit's adapter does with it. Both need the same HTTP client,
// the same in-process terminus and the same signal-driven child Node, so they keep one copy here.
import { type ChildProcess, spawn } from 'node:child_process';
import { type Agent, get as httpGet, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTerminus, type TerminusOptions } from '@godaddy/terminus';

/** The package root: children run there so they resolve `@godaddy/terminus` and `@readykit/health`. */
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A test waiting for an event that never comes fails here instead of hanging the run. */
export const BOUND = { timeout: 5_000 };

/** What `get()` read: the whole body as text, since the tests compare exact probe output. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET over a fresh socket, or over `agent`'s keep-alive pool. */
export function get(port: number, path: string, agent: Agent | false = false): Promise<Reply> {
  return new Promise((done, fail) => {
    httpGet({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', fail);
  });
}

/**
 * Terminus in this process, for what needs no signal; its signal listeners go when the test ends,
 * so no later test (or the runner itself) is shut down by a terminus it never asked for.
 * Returns the port `server` already listens on.
 */
export function withTerminus(t: TestContext, server: Server, options: TerminusOptions): number {
  const before = new Set([...process.listeners('SIGTERM'), ...process.listeners('SIGINT')]);
  createTerminus(server, options);
  t.after(() => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      for (const listener of process.listeners(signal))
        if (!before.has(listener)) process.off(signal, listener);
  });
  return (server.address() as AddressInfo).port;
}

/** A child Node started by `child()`, talked to over IPC. */
export interface Child {
  /** Where the child's server listens; 0 for a `raw` child, which has no server. */
  readonly port: number;
  readonly process: ChildProcess;
  /** Sends `type`; `'SIGTERM'` makes the child run its SIGTERM listeners as a real signal would. */
  send(type: string): void;
  /** The next message of `type`, buffered; rejects when the child ends first. */
  next(type: string): Promise<Record<string, unknown>>;
  /** Settles once the child is gone and its IPC messages are all read. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How one test file's children differ from the other's. */
export interface ChildOptions {
  /** Import lines added after the preamble's own, e.g. readykit's entry points. */
  readonly imports?: string;
  /** Node flags for the child, e.g. `--conditions=readykit-source` to load readykit from source. */
  readonly flags?: readonly string[];
  /** Runs the code alone, without the preamble's server or `LISTEN`; `port` is then 0. */
  readonly raw?: boolean;
}

// The child's `app` answers "app", holding GET /slow until `release()`; `when(type)` resolves
// once the test sent `type`. The IPC channel keeps the child alive the way a database pool or
// a timer keeps a real service alive. `imports` goes between the imports and the code because
// static imports must come first in the module.
const preamble = (imports: string): string => `
import { createServer } from 'node:http';
import { createTerminus } from '@godaddy/terminus';
${imports}
const send = (type, data = {}) => process.send({ type, ...data });
const sent = new Map();
const when = (type) => (sent.get(type) ?? sent.set(type, Promise.withResolvers()).get(type)).promise;
process.on('message', (type) => {
  when(type);
  sent.get(type).resolve();
  // A real signal calls its listeners with the signal's name; terminus re-raises that name.
  if (type === 'SIGTERM') process.emit('SIGTERM', 'SIGTERM');
});
let held;
const app = (req, res) => {
  if (req.url !== '/slow') return res.end('app');
  held = res;
  send('inflight');
};
const release = () => new Promise((done) => held.end('slow done', done));
const server = createServer(app);
`;
/** Ends every non-raw child's code: the test learns the port from the `listening` message. */
const LISTEN = `server.listen(0, '127.0.0.1', () => send('listening', { port: server.address().port }));`;

/**
 * Runs `code` in a child Node as an ES module, after the preamble and before `LISTEN` unless
 * `raw`; killed when the test ends if still running. A child, not this process, because
 * terminus ends the process it shuts down, and that must never be the test runner.
 */
export async function child(t: TestContext, code: string, options: ChildOptions = {}): Promise<Child> {
  const { imports = '', flags = [], raw = false } = options;
  const source = raw ? code : `${preamble(imports)}${code}\n${LISTEN}`;
  const proc = spawn(process.execPath, [...flags, '--input-type=module', '--eval', source], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // Kept for the error `next()` throws, so a child that crashes says why.
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    proc.once('close', (code, signal) => done({ code, signal })),
  );
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await ended;
  });
  // Messages can arrive before the test asks for them: those wait in `inbox`.
  const inbox: Record<string, unknown>[] = [];
  const waiting = new Map<string, (message: Record<string, unknown>) => void>();
  proc.on('message', (message: Record<string, unknown>) => {
    const deliver = waiting.get(message.type as string);
    waiting.delete(message.type as string);
    if (deliver) deliver(message);
    else inbox.push(message);
  });
  const next = (type: string): Promise<Record<string, unknown>> => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
    return Promise.race([
      new Promise<Record<string, unknown>>((done) => waiting.set(type, done)),
      ended.then(({ code, signal }) => {
        throw new Error(`child ended (${code ?? signal}) before "${type}":\n${stderr}`);
      }),
    ]);
  };
  const port = raw ? 0 : ((await next('listening')).port as number);
  return { port, process: proc, send: (type) => proc.send(type), next, ended };
}
