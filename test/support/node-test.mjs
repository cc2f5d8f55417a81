#!/usr/bin/env node
// Runs one workspace's tests with Node's test runner: TypeScript sources directly
// (type stripping), sibling packages through their sources ("readykit-source"
// condition), a spec reporter for people and a JSON summary for run-tests.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const resultsDir = join(root, '.test-results');
mkdirSync(resultsDir, { recursive: true });
const patterns = process.argv.slice(2);
const args = [
  '--conditions=readykit-source',
  '--test',
  '--test-timeout=120000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'test/support/summary-reporter.mjs')}`,
  `--test-reporter-destination=${join(resultsDir, `${pkg.name.replace(/[@/]/g, '_')}.json`)}`,
  ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts']),
];
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(run.status ?? 1);
