/**
 * The proxies the balancer benchmarks put side by side, started the same way: readykit-balancer
 * (the lead's CLI), HAProxy and nginx (foreground, configs in a temp dir), node-http-proxy and a
 * naive undici proxy. Also the nginx backends and the machine description every report starts with.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type HaproxyBalance,
  haproxyConfig,
  type NginxMethod,
  nginxBackendsConfig,
  nginxProxyConfig,
} from './balancer-anchor-configs.ts';
import { CAN_PIN, freePort, haveCommand, startProcess, waitFor200 } from './balancer-processes.ts';

/** A proxy under test and how it balances. */
export type ProxySpec =
  | { readonly kind: 'readykit'; readonly algorithm: 'p2c-ewma' | 'round-robin' }
  | { readonly kind: 'haproxy'; readonly balance: HaproxyBalance }
  | { readonly kind: 'nginx'; readonly method: NginxMethod }
  | { readonly kind: 'naive-undici' }
  | { readonly kind: 'http-proxy' };

/**
 * The proxies the throughput and added-latency benches compare, in report order: readykit and
 * the anchors in ../shared/reference/measured-anchors.md.
 */
export const SATURATION_VARIANTS: readonly ProxySpec[] = [
  { kind: 'readykit', algorithm: 'p2c-ewma' },
  { kind: 'readykit', algorithm: 'round-robin' },
  { kind: 'haproxy', balance: 'roundrobin' },
  { kind: 'nginx', method: 'round-robin' },
  { kind: 'naive-undici' },
  { kind: 'http-proxy' },
];

export interface RunningProxy {
  readonly url: string;
  /** readykit-balancer's admin origin (for /api/backends); undefined for the others. */
  readonly admin?: string | undefined;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READYKIT_BIN = join(ROOT, 'packages/balancer/bin/readykit-balancer.js');
/** The built CLI the bin imports (dist/cli/cli.js today; dist/cli.js in the first layout). */
const READYKIT_CLIS = ['packages/balancer/dist/cli/cli.js', 'packages/balancer/dist/cli.js'].map((p) =>
  join(ROOT, p),
);
const NAIVE_PROXY = fileURLToPath(new URL('./balancer-naive-undici-proxy.ts', import.meta.url));
const HTTP_PROXY = fileURLToPath(new URL('./balancer-http-proxy.ts', import.meta.url));
/** How often readykit-balancer probes `/readyz` on each backend, as in the CLI contract. */
const HEALTH_INTERVAL_MS = 500;
const HEALTH_TIMEOUT_MS = 400;

/** What the tables call a proxy. */
export function proxyLabel(spec: ProxySpec): string {
  switch (spec.kind) {
    case 'readykit':
      return `readykit-balancer ${spec.algorithm}`;
    case 'haproxy':
      return `HAProxy ${spec.balance}`;
    case 'nginx':
      return `nginx ${spec.method}`;
    case 'naive-undici':
      return 'naive undici Pool proxy';
    case 'http-proxy':
      return 'node-http-proxy 1.18';
  }
}

/** Why `spec` cannot run on this machine, or undefined when it can. */
export function missingReason(spec: ProxySpec): string | undefined {
  switch (spec.kind) {
    case 'readykit':
      if (!existsSync(READYKIT_BIN) || !READYKIT_CLIS.some((cli) => existsSync(cli))) {
        return 'readykit-balancer is not built (packages/balancer/bin/readykit-balancer.js, dist/cli/cli.js); run: npx turbo run build --filter=@readykit/balancer';
      }
      return undefined;
    case 'haproxy':
    case 'nginx':
      return haveCommand(spec.kind)
        ? undefined
        : `${spec.kind} is not installed; run: bash bench/install-balancer-anchors.sh`;
    case 'http-proxy':
      try {
        createRequire(import.meta.url).resolve('http-proxy');
        return undefined;
      } catch {
        return 'http-proxy is not installed (add "http-proxy": "1.18.1" to bench devDependencies, then npm install)';
      }
    case 'naive-undici':
      return undefined;
  }
}

let workDir: string | undefined;

/** One temp dir per bench for configs, pids and nginx temp files; removed at exit. */
function benchDir(): string {
  if (workDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'readykit-balancer-bench-'));
    // nginx workers run as nobody and must reach their temp paths.
    chmodSync(dir, 0o755);
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    workDir = dir;
  }
  return workDir;
}

function writeConfig(name: string, text: string): string {
  const file = join(benchDir(), name);
  writeFileSync(file, text);
  return file;
}

/** Starts `spec` in front of `backends` (origins), pinned to `cpu`; resolves once a request through it answers 200. */
export async function startProxy(
  spec: ProxySpec,
  backends: readonly string[],
  cpu: number | undefined,
): Promise<RunningProxy> {
  const label = proxyLabel(spec);
  let url: string;
  let admin: string | undefined;
  let stop: () => Promise<void>;
  if (spec.kind === 'readykit') {
    const args = [READYKIT_BIN, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'];
    for (const backend of backends) args.push('--backend', backend);
    args.push(
      '--algorithm',
      spec.algorithm,
      '--health-path',
      '/readyz',
      '--health-interval',
      String(HEALTH_INTERVAL_MS),
      // The CLI's default probe timeout (1 s) exceeds this interval, which it rejects.
      '--health-timeout',
      String(HEALTH_TIMEOUT_MS),
    );
    // To try flags without editing the bench, e.g. READYKIT_BALANCER_ARGS='--retries 0'.
    args.push(...(process.env.READYKIT_BALANCER_ARGS ?? '').split(' ').filter((a) => a !== ''));
    const p = await startProcess(process.execPath, args, {
      label,
      cpu,
      ready: /readykit-balancer listening on (http:\/\/[\d.]+:\d+), admin (http:\/\/[\d.]+:\d+)/,
    });
    url = p.match![1]!;
    admin = p.match![2]!;
    stop = p.stop;
  } else if (spec.kind === 'naive-undici' || spec.kind === 'http-proxy') {
    const script = spec.kind === 'naive-undici' ? NAIVE_PROXY : HTTP_PROXY;
    const p = await startProcess(process.execPath, [script, ...backends], {
      label,
      cpu,
      ready: /^port (\d+)$/,
    });
    url = `http://127.0.0.1:${p.match![1]}`;
    stop = p.stop;
  } else {
    const port = await freePort();
    const p =
      spec.kind === 'nginx'
        ? await startNginx(
            `nginx-${spec.method}-${port}.conf`,
            nginxProxyConfig(benchDir(), port, backends, spec.method),
            label,
            cpu,
          )
        : await startProcess(
            'haproxy',
            ['-f', writeConfig(`haproxy-${port}.cfg`, haproxyConfig(port, backends, spec.balance)), '-db'],
            { label, cpu },
          );
    url = `http://127.0.0.1:${port}`;
    stop = p.stop;
  }
  try {
    await waitFor200(`${url}/`, label);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, admin, stop };
}

/**
 * How readykit-balancer spread the requests: each backend's share of `requests` from its admin
 * `/api/backends`, in the backends' order, e.g. "34 % / 33 % / 33 %"; undefined if unavailable.
 */
export async function requestShares(proxy: RunningProxy): Promise<string | undefined> {
  if (proxy.admin === undefined) return undefined;
  try {
    const response = await fetch(`${proxy.admin}/api/backends`, { signal: AbortSignal.timeout(2_000) });
    const report = (await response.json()) as { backends?: { url: string; requests: number }[] };
    const backends = report.backends ?? [];
    const total = backends.reduce((a, b) => a + b.requests, 0);
    if (total === 0) return undefined;
    return backends.map((b) => `${((100 * b.requests) / total).toFixed(1)} %`).join(' / ');
  } catch {
    return undefined;
  }
}

/**
 * {@link startProxy}, or undefined after printing why `spec` is skipped: not installed or built
 * here, or it failed to start (a broken build must not hide the other proxies' numbers).
 */
export async function startProxyOrSkip(
  spec: ProxySpec,
  backends: readonly string[],
  cpu: number | undefined,
): Promise<RunningProxy | undefined> {
  const why = missingReason(spec);
  if (why !== undefined) {
    console.log(`skipping ${proxyLabel(spec)}: ${why}`);
    return undefined;
  }
  try {
    return await startProxy(spec, backends, cpu);
  } catch (error) {
    console.log(
      `skipping ${proxyLabel(spec)}: it did not start: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

function startNginx(name: string, config: string, label: string, cpu: number | undefined) {
  // -e: nginx opens its compiled-in error log before reading the config otherwise.
  return startProcess('nginx', ['-e', 'stderr', '-c', writeConfig(name, config), '-g', 'daemon off;'], {
    label,
    cpu,
  });
}

/** Three (or `count`) nginx `return 200` backends in one nginx process, pinned to `cpu`; their origins. */
export async function startNginxBackends(
  count: number,
  cpu: number | undefined,
): Promise<{ origins: string[]; stop: () => Promise<void> }> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const p = await startNginx(
    'nginx-backends.conf',
    nginxBackendsConfig(benchDir(), ports),
    'nginx backends',
    cpu,
  );
  const origins = ports.map((port) => `http://127.0.0.1:${port}`);
  for (const origin of origins) await waitFor200(`${origin}/`, 'nginx backends');
  return { origins, stop: p.stop };
}

function firstLine(command: string, args: readonly string[]): string {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error !== undefined) return 'not installed';
  return `${run.stdout}${run.stderr}`.split('\n')[0]!.trim();
}

/**
 * A warning when other processes keep the CPUs busy (this machine may be shared): those numbers
 * are not worth comparing. Samples the CPUs' idle time over `ms`.
 */
export async function busyWarning(ms = 1_000): Promise<string | undefined> {
  const idleOf = () => cpus().reduce((a, c) => a + c.times.idle, 0);
  const totalOf = () =>
    cpus().reduce((a, c) => a + c.times.idle + c.times.user + c.times.sys + c.times.nice + c.times.irq, 0);
  const [idle0, total0] = [idleOf(), totalOf()];
  await new Promise((resolve) => setTimeout(resolve, ms));
  const busy = 1 - (idleOf() - idle0) / Math.max(1, totalOf() - total0);
  return busy > 0.1
    ? `warning: the CPUs were ${Math.round(busy * 100)} % busy before the bench started (other processes); numbers from this run are unreliable`
    : undefined;
}

/** The machine and tool versions, for the top of a report: absolute numbers only compare within one run. */
export function machineLines(): string[] {
  const list = cpus();
  return [
    `machine: ${list.length} CPUs (${list[0]?.model ?? 'unknown'}), Linux ${release()}, Node ${process.version}`,
    `haproxy: ${firstLine('haproxy', ['-v'])}`,
    `nginx:   ${firstLine('nginx', ['-v'])}`,
    `wrk:     ${firstLine('wrk', ['-v'])}`,
    `pinning: ${CAN_PIN ? 'taskset available' : 'taskset unavailable, nothing pinned'}`,
  ];
}
