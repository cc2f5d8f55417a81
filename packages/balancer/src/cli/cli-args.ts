import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { closest } from '@readykit/health/validate';
import { BalancerError, BalancerErrorCodes } from '../errors.ts';
import { OPTION_TABLE } from '../option-table.ts';

/** What the command line asked for. */
export interface CliArgs {
  /** Setting values by dotted config key; repeated flags give arrays. */
  readonly flags: ReadonlyMap<string, unknown>;
  readonly configPath: string | undefined;
  readonly help: boolean;
  readonly version: boolean;
}

const PARSE_OPTIONS: ParseArgsOptionsConfig = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};
for (const spec of OPTION_TABLE) {
  PARSE_OPTIONS[spec.flag] = { type: 'string', multiple: spec.repeated === true };
}
const FLAG_NAMES = Object.keys(PARSE_OPTIONS);
const SPEC_BY_FLAG = new Map(OPTION_TABLE.map((spec) => [spec.flag, spec]));

/**
 * Parses `readykit-balancer` arguments. `--backend URL weight=N` takes the weight as the next
 * word; every other stray word is refused, as is an unknown flag (with the nearest known one).
 * Messages quote user input only after stripping it to printable ASCII.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: PARSE_OPTIONS,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (error) {
    throw cliError(describeParseError(error));
  }
  const flags = new Map<string, unknown>();
  const backends: string[] = [];
  let lastWasBackend = false;
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'positional') {
      if (lastWasBackend && /^weight=/.test(token.value) && backends.length > 0) {
        backends[backends.length - 1] += ` ${token.value}`;
        lastWasBackend = false;
        continue;
      }
      throw cliError(`unexpected argument ${quote(token.value)} (flags start with --; see --help)`);
    }
    lastWasBackend = false;
    if (token.kind !== 'option') continue;
    if (token.name === 'backend') {
      backends.push(token.value ?? '');
      lastWasBackend = true;
      continue;
    }
    const spec = SPEC_BY_FLAG.get(token.name);
    if (spec === undefined) continue;
    const key = spec.key;
    if (spec.repeated) flags.set(key, [...((flags.get(key) as unknown[] | undefined) ?? []), token.value]);
    else flags.set(key, token.value);
  }
  if (backends.length > 0) flags.set('backends', backends);
  const values = parsed.values as Record<string, unknown>;
  return {
    flags,
    configPath: values.config as string | undefined,
    help: values.help === true,
    version: values.version === true,
  };
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[A-Za-z0-9][A-Za-z0-9-]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
    const guess = nearestFlag(flag.replace(/^-+/, ''));
    return `unknown flag ${quote(flag)}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    return `flag ${quote(flag)} needs a value`;
  }
  return 'invalid arguments (see --help)';
}

function nearestFlag(name: string): string | undefined {
  return FLAG_NAMES.find((candidate) => candidate.startsWith(name)) ?? closest(name, FLAG_NAMES, 4);
}

/** User input in an error line: printable ASCII only, at most 60 characters, quoted. */
export function quote(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 60)}…` : clean);
}

function cliError(message: string): BalancerError {
  return new BalancerError(BalancerErrorCodes.INVALID_CONFIG, message);
}
