import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { BackendReport, BackendsReport } from '@readykit/balancer';

/** The package's command, as users run it: it imports the built `dist/`, not the sources. */
export const BALANCER_BIN = fileURLToPath(
  new URL('../../packages/balancer/bin/readykit-balancer.js', import.meta.url),
);
const PACKAGE_DIR = fileURLToPath(new URL('../../packages/balancer/', import.meta.url));

export interface BalancerProcess {
  readonly child: ChildProcess;
  /** The proxy listener, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The admin listener (`/api/backends`, `/metrics`, `/readyz`). */
  readonly admin: string;
  /** Every stdout and stderr line so far: the listening line, then one per backend state change. */
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal?: NodeJS.Signals): void;
  /** `GET /api/backends`. */
  backends(): Promise<BackendsReport>;
  /** One backend's row of `/api/backends`. */
  backend(url: string): Promise<BackendReport>;
  /** Polls `/api/backends` every 25 ms until `done` holds; throws naming `what` after `timeoutMs`. */
  waitFor(
    what: string,
    done: (report: BackendsReport) => boolean,
    timeoutMs?: number,
  ): Promise<BackendsReport>;
  /** Index in `output` of the first line matching `pattern` at or after `from`, or -1. */
  lineIndex(pattern: RegExp, from?: number): number;
  /** Waits for a line matching `pattern` at or after `from` and returns its index. */
  waitForLine(pattern: RegExp, from?: number, timeoutMs?: number): Promise<number>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `readykit-balancer` with `args` and resolves once it prints its listening line. Pass
 * `--listen 127.0.0.1:0 --admin 127.0.0.1:0` for free ports; `nodeArgs` go before the script.
 */
export async function startBalancer(
  args: readonly string[],
  options: { nodeArgs?: readonly string[] } = {},
): Promise<BalancerProcess> {
  checkBuilt();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BALANCER_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output: string[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, at: Date.now() };
  });
  const [url, admin] = await new Promise<[string, string]>((resolve, reject) => {
    const collect = (): ((chunk: Buffer) => void) => {
      let buffered = '';
      return (chunk) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          output.push(line);
          const m = /listening on (http:\/\/\S+), admin (http:\/\/\S+)$/.exec(line);
          if (m) resolve([m[1]!, m[2]!]);
        }
      };
    };
    child.stdout!.on('data', collect());
    child.stderr!.on('data', collect());
    child.once('exit', (code) =>
      reject(new Error(`balancer exited (${code}) before listening:\n${output.join('\n')}`)),
    );
  });
  const lineIndex = (pattern: RegExp, from = 0): number => {
    for (let i = from; i < output.length; i++) if (pattern.test(output[i]!)) return i;
    return -1;
  };
  const backends = async (): Promise<BackendsReport> => {
    const response = await fetch(`${admin}/api/backends`);
    return (await response.json()) as BackendsReport;
  };
  return {
    child,
    url,
    admin,
    output,
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    backends,
    backend: async (backendUrl) => {
      const row = (await backends()).backends.find((b) => b.url === backendUrl);
      if (row === undefined) throw new Error(`/api/backends does not list ${backendUrl}`);
      return row;
    },
    waitFor: async (what, done, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const report = await backends();
        if (done(report)) return report;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; /api/backends: ${JSON.stringify(report)}\nbalancer output:\n${output.join('\n')}`,
          );
        }
        await sleep(25);
      }
    },
    lineIndex,
    waitForLine: async (pattern, from = 0, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = lineIndex(pattern, from);
        if (index >= 0) return index;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${pattern}; balancer output:\n${output.join('\n')}`,
          );
        }
        await sleep(10);
      }
    },
  };
}

/** A backend's state-change line, as the balancer prints it: `backend http://… draining`. */
export function stateLine(backendUrl: string, state: string): RegExp {
  return new RegExp(`^backend ${backendUrl.replace(/[.]/g, '\\.')} ${state}\\b`);
}

let checked = false;

/**
 * The command runs `dist/`: a missing build is refused, and one older than a source file is
 * reported (not refused: a build restored from turbo's cache may keep older times).
 */
function checkBuilt(): void {
  if (checked) return;
  checked = true;
  const built = join(PACKAGE_DIR, 'dist/cli/cli.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: run \`npx turbo run build\` first`);
  }
  const src = join(PACKAGE_DIR, 'src');
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    const file = join(entry.parentPath, entry.name);
    if (entry.isFile() && statSync(file).mtimeMs > builtAt) {
      console.warn(`\n*** ${file} is newer than packages/balancer/dist: run \`npx turbo run build\` ***\n`);
      return;
    }
  }
}
