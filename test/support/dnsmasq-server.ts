import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One SRV record dnsmasq serves (`--srv-host`); no target means "service not offered" (`.`). */
export interface SrvHost {
  readonly name: string;
  readonly target?: string;
  readonly port?: number;
  readonly priority?: number;
  readonly weight?: number;
}

/** What a {@link DnsmasqServer} answers, all under `.test` (other `.test` names are NXDOMAIN). */
export interface DnsRecords {
  /** `[name, address]` pairs, A or AAAA by the address; rewritable without a restart. */
  readonly hosts?: ReadonlyArray<readonly [string, string]>;
  readonly srv?: readonly SrvHost[];
  /** TTL of every record, seconds. @default 1 */
  readonly ttl?: number;
}

/**
 * A real dnsmasq (Debian package `dnsmasq`) answering on 127.0.0.1 and a free port, from
 * records a test rewrites: address records through an addn-hosts file and SIGHUP, SRV records
 * (which dnsmasq reads only at start) by a restart on the same port.
 */
export class DnsmasqServer {
  /** `127.0.0.1:PORT`, for the resolver option. */
  readonly address: string;
  readonly port: number;
  readonly #dir: string;
  #records: DnsRecords;
  #process: ChildProcess | undefined;
  #log = '';

  private constructor(dir: string, port: number, records: DnsRecords) {
    this.#dir = dir;
    this.port = port;
    this.address = `127.0.0.1:${port}`;
    this.#records = records;
  }

  /** Starts dnsmasq on a free port (another one if that one is taken meanwhile). */
  static async start(records: DnsRecords): Promise<DnsmasqServer> {
    const dir = await mkdtemp(join(tmpdir(), 'rk-dnsmasq-'));
    for (let attempt = 1; ; attempt++) {
      const server = new DnsmasqServer(dir, await freeUdpPort(), records);
      try {
        await server.restart();
        return server;
      } catch (error) {
        if (attempt === 5 || !/Address already in use/.test(String(error))) {
          await rm(dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** How many queries of `type` for `name` dnsmasq has answered so far. */
  queries(type: string, name: string): number {
    return this.#log.split(`query[${type}] ${name} from`).length - 1;
  }

  /** Rewrites the address records and has dnsmasq reread them (SIGHUP), without a restart. */
  async setHosts(hosts: DnsRecords['hosts']): Promise<void> {
    this.#records = { ...this.#records, hosts };
    await this.#writeFiles();
    const reads = this.#hostReads();
    this.#process?.kill('SIGHUP');
    await this.#until(() => this.#hostReads() > reads, 'dnsmasq to reread its hosts file');
  }

  /** Replaces every record: stops dnsmasq and starts it again on the same port. */
  async setRecords(records: DnsRecords): Promise<void> {
    await this.stop();
    this.#records = records;
    await this.restart();
  }

  /** Starts dnsmasq (again) on this server's port; resolves once it has read its records. */
  async restart(): Promise<void> {
    if (this.#process !== undefined) return;
    await this.#writeFiles();
    this.#log = '';
    const child = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        '--bind-interfaces',
        '--listen-address=127.0.0.1',
        `--port=${this.port}`,
        `--conf-file=${join(this.#dir, 'dnsmasq.conf')}`,
        `--addn-hosts=${join(this.#dir, 'hosts')}`,
        `--local-ttl=${this.#records.ttl ?? 1}`,
        // Answers for .test come from these files only: other names are NXDOMAIN, not REFUSED.
        '--local=/test/',
        '--pid-file=',
        // As root dnsmasq would switch to nobody, who cannot read the private temp directory.
        '--user=root',
        '--log-facility=-',
        '--log-queries',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#process = child;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#log += chunk;
    });
    child.once('error', () => {
      if (this.#process === child) this.#process = undefined;
    });
    child.once('exit', () => {
      if (this.#process === child) this.#process = undefined;
    });
    try {
      await this.#until(() => {
        if (this.#process !== child)
          throw new Error(`dnsmasq exited: ${this.#log.trim().split('\n').at(-1)}`);
        return this.#hostReads() > 0;
      }, 'dnsmasq to start');
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops dnsmasq (SIGTERM) and waits for it to exit; queries then go unanswered. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined) return;
    this.#process = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  /** Stops dnsmasq and removes its files. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #writeFiles(): Promise<void> {
    const { hosts = [], srv = [] } = this.#records;
    await writeFile(join(this.#dir, 'hosts'), hosts.map(([name, ip]) => `${ip} ${name}\n`).join(''));
    const lines = srv.map((r) =>
      r.target === undefined
        ? `srv-host=${r.name}`
        : `srv-host=${r.name},${r.target},${r.port ?? 80},${r.priority ?? 0},${r.weight ?? 0}`,
    );
    await writeFile(join(this.#dir, 'dnsmasq.conf'), lines.map((line) => `${line}\n`).join(''));
  }

  #hostReads(): number {
    return this.#log.split(`read ${join(this.#dir, 'hosts')} - `).length - 1;
  }

  async #until(predicate: () => boolean, what: string): Promise<void> {
    const started = Date.now();
    while (!predicate()) {
      if (Date.now() - started > 5000) throw new Error(`timed out waiting for ${what}: ${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** A UDP port free a moment ago (dnsmasq binds it right after; start() retries if it lost it). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
