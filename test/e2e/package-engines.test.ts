import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { test } from 'node:test';

// Published packages must not claim to run on a Node older than their dependencies need.
const root = new URL('../../', import.meta.url);
const PACKAGES = ['health', 'metrics', 'tracing', 'express', 'balancer'];

function minimum(range: string | undefined): number[] | undefined {
  const m = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range?.trim() ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function atLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

for (const dir of PACKAGES) {
  test(`@readykit/${dir} declares engines.node no lower than its dependencies`, () => {
    const manifestUrl = new URL(`packages/${dir}/package.json`, root);
    const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8'));
    const own = minimum(manifest.engines?.node);
    assert.ok(own, `${manifest.name} engines.node is a ">=x.y.z" range`);
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      // Resolved as the package itself sees it; works where `exports` hides package.json.
      const path = findPackageJSON(dependency, manifestUrl);
      assert.ok(path, `${dependency} resolves from ${manifest.name}`);
      const depManifest = JSON.parse(readFileSync(path, 'utf8'));
      const needed = minimum(depManifest.engines?.node);
      if (needed === undefined) continue;
      assert.ok(
        atLeast(own, needed),
        `${manifest.name} says ${manifest.engines.node}, ${dependency} needs ${depManifest.engines.node}`,
      );
    }
  });
}
