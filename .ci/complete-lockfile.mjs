#!/usr/bin/env node
// The npm registry this project's machines reach carries only the Linux glibc builds of
// Biome and turbo, so `npm install` cannot record their other platform packages in the
// lockfile, and `npm ci` then refuses the lockfile as out of sync. This adds those entries
// with their os/cpu/libc constraints (as the public registry publishes them) and no
// tarball: npm skips a platform-incompatible optional package without fetching it.
// Run after changing the Biome or turbo version: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORMS = {
  '@biomejs/cli-android-arm64': { os: ['android'], cpu: ['arm64'] },
  '@biomejs/cli-android-x64': { os: ['android'], cpu: ['x64'] },
  '@biomejs/cli-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  '@biomejs/cli-darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  '@biomejs/cli-linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  '@biomejs/cli-linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  '@biomejs/cli-win32-arm64': { os: ['win32'], cpu: ['arm64'] },
  '@biomejs/cli-win32-x64': { os: ['win32'], cpu: ['x64'] },
  '@turbo/darwin-64': { os: ['darwin'], cpu: ['x64'] },
  '@turbo/darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  '@turbo/windows-64': { os: ['win32'], cpu: ['x64'] },
  '@turbo/windows-arm64': { os: ['win32'], cpu: ['arm64'] },
};

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] !== undefined || PLATFORMS[name] === undefined) continue;
    lock.packages[key] = { version, dev: entry.dev, optional: true, ...PLATFORMS[name] };
    added++;
    if (!path) throw new Error('unexpected optional dependency of the root');
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
