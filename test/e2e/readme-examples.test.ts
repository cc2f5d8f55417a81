import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * Every README code block fenced as ```ts that listens on 8080 is a whole program: it runs
 * here as users would run it (built packages, no source condition), on a free port instead
 * of 8080, and must answer its probes and exit 0 on SIGTERM.
 */
const root = new URL('../../', import.meta.url);
const readmes = [
  'README.md',
  'packages/health/README.md',
  'packages/express/README.md',
  'packages/metrics/README.md',
  'packages/tracing/README.md',
];
const scratch = fileURLToPath(new URL('../.readme-tmp/', import.meta.url));
const preload = fileURLToPath(new URL('../support/print-port.mjs', import.meta.url));

function examples(readme: string): string[] {
  const text = readFileSync(new URL(readme, root), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((code) => code.includes('8080'));
}

for (const readme of readmes) {
  const blocks = examples(readme);
  test(`${readme} has a runnable example`, () => {
    assert.ok(blocks.length > 0, `${readme} should show a whole program listening on 8080`);
  });
  blocks.forEach((code, i) => {
    test(`${readme} example ${i + 1} runs: probes answer, SIGTERM exits 0`, async () => {
      mkdirSync(scratch, { recursive: true });
      const file = `${scratch}${readme.replace(/[/.]/g, '_')}_${i}.ts`;
      writeFileSync(file, code.replaceAll('8080', '0'));
      const child = spawn(process.execPath, ['--import', preload, file], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KUBERNETES_SERVICE_HOST: '' },
      });
      let output = '';
      const exited = once(child, 'exit');
      try {
        const port = await new Promise<number>((resolve, reject) => {
          child.stdout!.on('data', (chunk: Buffer) => {
            output += chunk;
            const m = /READYKIT_TEST_PORT=(\d+)/.exec(output);
            if (m) resolve(Number(m[1]));
          });
          child.stderr!.on('data', (chunk: Buffer) => {
            output += chunk;
          });
          child.once('exit', () => reject(new Error(`example exited early:\n${output}`)));
        });
        const url = `http://127.0.0.1:${port}`;
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
        let ready = 0;
        for (let tries = 0; tries < 100 && ready !== 200; tries++) {
          ready = (await fetch(`${url}/readyz`)).status;
          if (ready !== 200) await sleep(50);
        }
        assert.equal(ready, 200, 'the example becomes ready');
        child.kill('SIGTERM');
        const [code] = await exited;
        assert.equal(code, 0, output);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
}
