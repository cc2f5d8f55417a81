import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess } from './child-process.ts';
import type { BackendRow, FrontBalancer } from './front-balancer.ts';

/**
 * The configuration a team would write for HAProxy in front of readykit services: the readiness
 * endpoint as the health check, 200 required (so a warming or draining instance's 503 takes it
 * out at the next probe), probes every 500 ms, and HAProxy's own slow start.
 */
export function haproxyConfig(listenPort: number, statsPort: number, backends: readonly string[]): string {
  const servers = backends.map((url, i) => `  server s${i + 1} ${new URL(url).host} check`).join('\n');
  return `global
  maxconn 2000

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  retries 3
  option redispatch

frontend demo
  bind 127.0.0.1:${listenPort}
  default_backend services

frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /
  stats refresh 1s

backend services
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fastinter 250ms downinter 500ms rise 2 fall 1 slowstart 5s
${servers}
`;
}

/** A free loopback port: HAProxy cannot report the one it picked for port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Starts `/usr/sbin/haproxy` (Debian's package) in the foreground in front of `backends`. */
export async function startHaproxyFront(
  backends: readonly string[],
  options: { onLine: (line: string) => void },
): Promise<FrontBalancer> {
  const dir = await mkdtemp(join(tmpdir(), 'readykit-demo-haproxy-'));
  const listenPort = await freePort();
  const statsPort = await freePort();
  const configFile = join(dir, 'haproxy.cfg');
  await writeFile(configFile, haproxyConfig(listenPort, statsPort, backends));
  const child = startProcess('haproxy', 'haproxy', ['-db', '-f', configFile], {}, options.onLine);
  const stats = `http://127.0.0.1:${statsPort}/`;
  const csv = async (): Promise<Map<string, Record<string, string>>> => {
    const response = await fetch(`${stats};csv`, { signal: AbortSignal.timeout(2000) });
    return parseStats(await response.text(), backends);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await csv();
      break;
    } catch (error) {
      if ((await Promise.race([child.exited, sleep(100)])) !== undefined || Date.now() > deadline) {
        await child.stop(2000);
        await rm(dir, { recursive: true, force: true });
        throw new Error(`haproxy did not start: ${String(error)}\n${child.output.join('\n')}`);
      }
    }
  }

  let latest: readonly BackendRow[] = [];
  let previous = new Map<string, number>();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      try {
        const rows = await csv();
        const totals = new Map([...rows].map(([url, r]) => [url, Number(r.stot ?? 0)]));
        const deltas = [...totals].map(([url, n]) => [url, n - (previous.get(url) ?? n)] as const);
        const sum = deltas.reduce((s, [, d]) => s + d, 0);
        previous = totals;
        latest = deltas.map(([url, delta]) => {
          const r = rows.get(url)!;
          const avg = r.rtime === undefined || r.rtime === '' ? null : Number(r.rtime);
          // HAProxy keeps an average of the last 1024 response times, no percentiles: shown beside the state.
          const state = stateOf(r.status ?? '');
          return {
            url,
            state: avg === null ? state : `${state} (avg ${avg} ms)`,
            sharePercent: sum > 0 ? (100 * delta) / sum : null,
            p50Ms: null,
            p99Ms: null,
            errors: Number(r.hrsp_5xx || 0) + Number(r.eresp || 0) + Number(r.econ || 0),
          };
        });
      } catch {
        // Only the view depends on it.
      }
      await sleep(1000);
    }
  })();

  return {
    kind: 'haproxy',
    url: `http://127.0.0.1:${listenPort}`,
    dashboard: stats,
    process: child,
    state: async (backendUrl) => {
      const row = (await csv()).get(backendUrl);
      return row === undefined ? undefined : stateOf(row.status ?? '');
    },
    rows: () => latest,
    setBackends: undefined,
    stop: async () => {
      polling = false;
      await poll;
      await child.stop(10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A server's state change from HAProxy's log, shortened: `s1 DOWN (Layer7 wrong status, 503)`; undefined for other lines. */
export function haproxyLogLine(line: string): string | undefined {
  const m = /Server services\/(s\d+) is (\w+)(?:, reason: ([^,]+)(?:, code: (\d+))?)?/.exec(line);
  if (m === null) return undefined;
  const why = m[3] === undefined ? '' : ` (${m[3]}${m[4] === undefined ? '' : `, ${m[4]}`})`;
  return `${m[1]} ${m[2]}${why}`;
}

/** HAProxy's status words in the demo's terms: UP (also "UP 1/2", going down) takes traffic. */
function stateOf(status: string): string {
  if (status.startsWith('UP')) return 'ready';
  if (status.startsWith('DOWN')) return 'down';
  if (status === 'NOLB' || status.startsWith('DRAIN')) return 'draining';
  return status.toLowerCase() || 'unknown';
}

/** The stats CSV's server rows of the `services` backend, by backend URL. */
function parseStats(text: string, backends: readonly string[]): Map<string, Record<string, string>> {
  const lines = text.split('\n').filter((line) => line !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(1)) {
    const values = line.split(',');
    const row: Record<string, string> = {};
    header.forEach((key, i) => {
      row[key] = values[i] ?? '';
    });
    const index = /^s(\d+)$/.exec(row.svname ?? '')?.[1];
    if (row.pxname !== 'services' || index === undefined) continue;
    const url = backends[Number(index) - 1];
    if (url !== undefined) rows.set(url, row);
  }
  return rows;
}
