import { OPTION_TABLE, type OptionSpec } from '../option-table.ts';

const VALUE_NAMES: Record<OptionSpec['kind'], string> = {
  address: 'HOST:PORT',
  backends: 'URL [weight=N]',
  algorithm: 'NAME',
  duration: 'DURATION',
  count: 'N',
  percent: 'PERCENT',
  ratio: 'NUMBER',
  header: 'HEADER',
  cookie: 'COOKIE',
  path: 'PATH',
  cidrs: 'IP|CIDR',
  boolean: 'true|false',
  secret: 'TOKEN',
  dnsTarget: 'NAME',
  service: '[NS/]NAME',
  portRef: 'PORT',
  file: 'FILE',
  scheme: 'SCHEME',
};

/** `--help`: every flag with its config key and default, generated from the option table. */
export function helpText(): string {
  const lines = [
    'Usage: readykit-balancer [--config FILE] [flags]',
    '',
    'A reverse proxy that acts on readiness, drain and latency. Flags win over the config file (YAML, keys',
    'shown as "config:"). Durations are milliseconds or take a unit: 500ms, 2s, 1m.',
    '',
    '  --config FILE            YAML configuration file',
    '  --help                   print this help',
    '  --version                print the version',
    '',
  ];
  for (const spec of OPTION_TABLE) {
    const flag = `  --${spec.flag} ${VALUE_NAMES[spec.kind]}`;
    lines.push(`${flag.padEnd(40)}${spec.help}`);
    lines.push(`${''.padEnd(40)}(config: ${spec.key}; default: ${formatDefault(spec)})`);
  }
  lines.push(
    '',
    'Exits 0 after SIGTERM or SIGINT once requests in flight are done; 2 on invalid configuration.',
  );
  return `${lines.join('\n')}\n`;
}

/** A default as the README and --help print it. */
export function formatDefault(spec: OptionSpec): string {
  const value = spec.default;
  if (value === undefined) return spec.key === 'shutdown.delay' ? '5s in Kubernetes, else 0' : 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (spec.kind === 'duration') return formatDuration(value as number);
  return String(value);
}

function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
