import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { BalancerError, BalancerErrorCodes } from '../errors.ts';
import { quote } from './cli-args.ts';

const MAX_CONFIG_BYTES = 1_048_576;

/**
 * Reads a YAML config file into a plain object. A missing file, a YAML error (reported with its
 * line), duplicate keys, anchors/aliases bombs and files over 1 MiB are refused with one line.
 */
export async function readConfigFile(path: string): Promise<unknown> {
  return parseConfigText((await readConfigBytes(path)).toString('utf8'), path);
}

/** The config file's bytes; a missing or unreadable file or one over 1 MiB is refused in one line. */
export async function readConfigBytes(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw configError(`cannot read config file ${quote(path)}: ${code}`);
  }
  if (bytes.length > MAX_CONFIG_BYTES) throw configError(`config file ${quote(path)} is larger than 1 MiB`);
  return bytes;
}

/** Parses YAML config text; `source` names it in errors. */
export function parseConfigText(text: string, source: string): unknown {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    const reason = problem.message
      .split('\n')[0]!
      .replace(/ at line \d+, column \d+:?$/, '')
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, 120);
    throw configError(`config file ${quote(source)}${line === undefined ? '' : ` line ${line}`}: ${reason}`);
  }
  // maxAliasCount bounds "billion laughs" expansion.
  return document.toJS({ maxAliasCount: 100 }) ?? {};
}

function configError(message: string): BalancerError {
  return new BalancerError(BalancerErrorCodes.INVALID_CONFIG, message);
}
