import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from './child-process.ts';
import type { BackendRow, FrontBalancer } from './front-balancer.ts';

const BALANCER_BIN = fileURLToPath(
  new URL('../../../packages/balancer/bin/readykit-balancer.js', import.meta.url),
);

/** The part of the dashboard's `snapshot` event the view shows. */
interface Snapshot {
  readonly total: { readonly rps: number };
  readonly backends: ReadonlyArray<{
    readonly url: string;
    readonly state: string;
    readonly slowStartPercent: number | null;
    readonly rps: number;
    readonly p50Ms: number | null;
    readonly p99Ms: number | null;
    readonly failures: number;
  }>;
}

/**
 * Starts readykit-balancer (the built package) with its backends in a watched config file, so
 * the scale-up can add one by saving the file, as an operator would.
 */
export async function startReadykitFront(
  backends: readonly string[],
  options: { slowStartMs: number; onLine: (line: string) => void },
): Promise<FrontBalancer> {
  const dir = await mkdtemp(join(tmpdir(), 'readykit-demo-'));
  const configFile = join(dir, 'balancer.yaml');
  const writeConfig = (urls: readonly string[]): Promise<void> =>
    writeFile(configFile, `backends:\n${urls.map((url) => `  - ${url}\n`).join('')}`);
  await writeConfig(backends);
  const child = startProcess(
    'readykit-balancer',
    process.execPath,
    [
      BALANCER_BIN,
      `--config=${configFile}`,
      '--listen=127.0.0.1:0',
      '--admin=127.0.0.1:0',
      // Probes often enough that a draining instance is out well within its shutdown delay.
      '--health-interval=500ms',
      '--health-timeout=400ms',
      `--slow-start-window=${options.slowStartMs}ms`,
    ],
    {},
    options.onLine,
  );
  let admin: string;
  let url: string;
  try {
    const line = await child.waitForLine(/(listening on http:\/\/\S+, admin http:\/\/\S+)$/, 15_000);
    const m = /listening on (http:\/\/\S+), admin (http:\/\/\S+)$/.exec(line)!;
    url = m[1]!;
    admin = m[2]!;
  } catch (error) {
    await child.stop(2000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let latest: readonly BackendRow[] = [];
  const feed = new AbortController();
  const following = follow(`${admin}/api/events`, feed.signal, (snapshot) => {
    const total = snapshot.total.rps;
    latest = snapshot.backends.map((b) => ({
      url: b.url,
      state:
        b.state === 'ready' && b.slowStartPercent !== null ? `slow start ${b.slowStartPercent}%` : b.state,
      sharePercent: total > 0 ? (100 * b.rps) / total : null,
      p50Ms: b.p50Ms,
      p99Ms: b.p99Ms,
      errors: b.failures,
    }));
  });

  return {
    kind: 'readykit',
    url,
    dashboard: `${admin}/`,
    process: child,
    state: async (backendUrl) => {
      const response = await fetch(`${admin}/api/backends`, { signal: AbortSignal.timeout(2000) });
      const report = (await response.json()) as {
        backends: ReadonlyArray<{ url: string; state: string; slowStart: boolean }>;
      };
      const row = report.backends.find((b) => b.url === backendUrl);
      if (row === undefined) return undefined;
      return row.state === 'ready' && row.slowStart ? 'slow start' : row.state;
    },
    rows: () => latest,
    setBackends: writeConfig,
    stop: async () => {
      feed.abort();
      await following;
      await child.stop(10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the dashboard's Server-Sent Events and hands each snapshot over, until `signal` aborts. */
async function follow(url: string, signal: AbortSignal, onSnapshot: (s: Snapshot) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      const response = await fetch(url, { signal });
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body!) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
          if (!/^event: snapshot$/m.test(event)) continue;
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data !== undefined) onSnapshot(JSON.parse(data) as Snapshot);
        }
      }
    } catch {
      // The feed is only for the view: a broken stream is retried, never fatal.
    }
    if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
