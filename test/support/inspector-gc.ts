/**
 * Node flag that opens the inspector on a free loopback port; the process prints
 * `Debugger listening on ws://127.0.0.1:…` and runs unchanged until a session attaches.
 */
export const INSPECT_ON_FREE_PORT = '--inspect=127.0.0.1:0';

/** The inspector's WebSocket address a process started with {@link INSPECT_ON_FREE_PORT} printed. */
export function inspectorAddress(output: readonly string[]): string {
  for (const line of output) {
    const m = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`no "Debugger listening on ws://…" line in the process's output`);
}

/**
 * Runs full, compacting garbage collections in another process through its inspector
 * (`HeapProfiler.collectGarbage`, twice: the second collects what finalizers of the first
 * released). After it, the process's RSS is its live memory, not wherever V8's heap sizing
 * happened to stand: the one way to compare RSS across time without code in the process.
 */
export async function collectGarbage(address: string, timeoutMs = 10_000): Promise<void> {
  const socket = new WebSocket(address);
  const pending = new Map<number, (reply: { error?: { message: string } }) => void>();
  socket.addEventListener('message', (event) => {
    const reply = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
    if (reply.id !== undefined) pending.get(reply.id)?.(reply);
  });
  let nextId = 0;
  const call = (method: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve();
      });
      socket.send(JSON.stringify({ id, method }));
    });
  const timer = setTimeout(() => socket.close(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${address}`)), {
        once: true,
      });
    });
    const closed = new Promise<never>((_, reject) =>
      socket.addEventListener('close', () => reject(new Error(`inspector session to ${address} closed`)), {
        once: true,
      }),
    );
    await Promise.race([
      (async () => {
        await call('HeapProfiler.enable');
        await call('HeapProfiler.collectGarbage');
        await call('HeapProfiler.collectGarbage');
        await call('HeapProfiler.disable');
      })(),
      closed,
    ]);
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
