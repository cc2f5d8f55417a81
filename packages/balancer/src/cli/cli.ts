import { readFileSync } from 'node:fs';
import { Balancer } from '../balancer.ts';
import { createDiscovery } from '../discover/create-discovery.ts';
import { BalancerError } from '../errors.ts';
import { resolveBalancerConfig } from '../options.ts';
import { parseCliArgs } from './cli-args.ts';
import { parseConfigText, readConfigBytes } from './config-file.ts';
import { ConfigWatcher } from './config-watcher.ts';
import { helpText } from './help-text.ts';

/** Streams the CLI writes to; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const PROCESS_IO: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `readykit-balancer`: parses flags and the config file, starts the balancer and hands the
 * process to its shutdown timeline (SIGTERM or SIGINT: drain, then exit 0). Returns the exit
 * code when it does not start: 0 for --help and --version, 2 for invalid configuration.
 */
export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number | undefined> {
  let balancer: Balancer;
  try {
    const args = parseCliArgs(argv);
    if (args.help) {
      io.stdout(helpText());
      return 0;
    }
    if (args.version) {
      io.stdout(`readykit-balancer ${packageVersion()}\n`);
      return 0;
    }
    const flags = withEnvironment(args.flags);
    const bytes = args.configPath === undefined ? undefined : await readConfigBytes(args.configPath);
    const file = bytes === undefined ? {} : parseConfigText(bytes.toString('utf8'), args.configPath!);
    const config = resolveBalancerConfig(file, flags);
    const log = (line: string): void => io.stdout(`${line}\n`);
    balancer = new Balancer(config, {
      handleSignals: true,
      log,
      discovery: await createDiscovery(config, log),
    });
    if (args.configPath !== undefined && bytes !== undefined && config.watchConfig) {
      const running = balancer;
      const watcher = new ConfigWatcher(
        { path: args.configPath, flags, apply: (next) => running.reconfigure(next), log },
        bytes,
      );
      running.health.on('shutdown', ({ phase }) => {
        if (phase === 'delay') watcher.close();
      });
    }
  } catch (error) {
    if (error instanceof BalancerError || isReadykitError(error)) {
      io.stderr(`readykit-balancer: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
  try {
    await balancer.start();
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    io.stderr(`readykit-balancer: cannot listen: ${code}\n`);
    await balancer.close();
    return 1;
  }
  return undefined;
}

/** The admin token may come from the environment, out of `ps`'s sight; a flag still wins. */
function withEnvironment(flags: ReadonlyMap<string, unknown>): ReadonlyMap<string, unknown> {
  const token = process.env.READYKIT_BALANCER_ADMIN_TOKEN;
  if (token === undefined || token === '' || flags.has('adminToken')) return flags;
  return new Map([...flags, ['adminToken', token]]);
}

function isReadykitError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('RK_ERR_');
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
