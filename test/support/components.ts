import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * Real components come from Debian's packages. Missing one skips the test with a loud
 * message, except under CI=true, where .ci/run installs them and a missing one fails.
 */
export function requireCommand(t: TestContext, command: string, debianPackage: string): boolean {
  const found = spawnSync(command, ['--version'], { stdio: 'ignore' }).error === undefined;
  if (found) return true;
  const message = `${command} is not installed (Debian package "${debianPackage}": apt-get install ${debianPackage})`;
  if (process.env.CI === 'true') throw new Error(`${message}; .ci/run should have installed it`);
  console.warn(`\n*** SKIPPED: ${message} ***\n`);
  t.skip(message);
  return false;
}
