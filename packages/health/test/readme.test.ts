import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ErrorCodes } from '../src/index.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const optionsSource = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');

/** The field names of an exported interface in options.ts. */
function fields(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(optionsSource)?.[1];
  assert.ok(body, `interface ${name} not found`);
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

test('every option is documented in the README with its default', () => {
  for (const iface of ['HealthOptions', 'ShutdownOptions', 'CheckOptions', 'GateOptions', 'HookOptions']) {
    const names = fields(iface);
    assert.ok(names.length > 0, iface);
    for (const field of names)
      assert.ok(readme.includes(`\`${field}\``), `${iface}.${field} is not in the README`);
  }
});

test('every option carries a TSDoc comment in the source', () => {
  for (const iface of ['HealthOptions', 'ShutdownOptions', 'CheckOptions', 'GateOptions', 'HookOptions']) {
    const body = new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(optionsSource)?.[1] ?? '';
    for (const field of fields(iface)) {
      assert.match(body, new RegExp(`\\*/\\n {2}${field}\\??:`), `${iface}.${field} has no TSDoc`);
    }
  }
});

test('every error code is documented', () => {
  for (const code of Object.values(ErrorCodes))
    assert.ok(readme.includes(`\`${code}\``), `${code} is not in the README`);
});
