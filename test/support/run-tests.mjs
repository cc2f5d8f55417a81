#!/usr/bin/env node
// `npm test`: lint, typecheck and test every workspace through turbo, then print
// one closing line that counts every test of every workspace: "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const resultsDir = join(root, '.test-results');
rmSync(resultsDir, { recursive: true, force: true });

const turbo = spawnSync(
  join(root, 'node_modules/.bin/turbo'),
  [
    'run',
    'typecheck',
    'test',
    '--continue',
    '--concurrency=1',
    '--log-order=grouped',
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  },
);

const total = { passed: 0, failed: 0, skipped: 0, todo: 0 };
const failures = [];
let files = [];
try {
  files = readdirSync(resultsDir).filter((f) => f.endsWith('.json'));
} catch {}
for (const file of files) {
  for (const line of readFileSync(join(resultsDir, file), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line);
    for (const key of Object.keys(total)) total[key] += r[key];
    failures.push(...r.failures);
  }
}
for (const f of failures) console.log(`failed: ${f}`);
const turboFailed = turbo.status !== 0;
if (turbo.error) console.log(`could not run turbo: ${turbo.error.message}`);
else if (turboFailed)
  console.log(`turbo exited ${turbo.status ?? turbo.signal}: a lint, typecheck or test task failed`);
if (files.length === 0) console.log('no test results were written');
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped + total.todo} skipped`);
process.exit(turboFailed || total.failed > 0 || files.length === 0 ? 1 : 0);
