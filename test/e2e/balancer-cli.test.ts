import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OPTION_TABLE, type OptionSpec } from '@readykit/balancer';
import { BALANCER_BIN, type BalancerProcess, startBalancer } from '../support/balancer-process.ts';
import { type ServiceProcess, startService } from '../support/service-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'balancer-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs the command to completion; outside Kubernetes, whatever this machine is. */
function run(args: readonly string[]) {
  const env = { ...process.env };
  delete env.KUBERNETES_SERVICE_HOST;
  return spawnSync(process.execPath, [BALANCER_BIN, ...args], { encoding: 'utf8', timeout: 10_000, env });
}

/** A default as a reader of --help must see it, worked out here rather than by the code under test. */
function expectedDefault(spec: OptionSpec): string | RegExp {
  const value = spec.default;
  if (value === undefined) return /\S/; // off unless given: described in words
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (spec.kind !== 'duration') return String(value);
  const ms = value as number;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

describe('readykit-balancer --help and --version', () => {
  test('--help exits 0 and lists every flag of the option table with its config key and default', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.equal(help.stderr, '');
    assert.ok(OPTION_TABLE.length > 30, `${OPTION_TABLE.length} options`);
    const lines = help.stdout.split('\n');
    for (const spec of OPTION_TABLE) {
      const at = lines.findIndex((line) => line.startsWith(`  --${spec.flag} `));
      assert.ok(at >= 0, `--help lists --${spec.flag}`);
      const described = /^\s+\(config: (\S+); default: (.+)\)$/.exec(lines[at + 1] ?? '');
      assert.ok(described, `--${spec.flag} is followed by its config key and default: ${lines[at + 1]}`);
      assert.equal(described[1], spec.key, `--${spec.flag}`);
      const expected = expectedDefault(spec);
      if (typeof expected === 'string') assert.equal(described[2], expected, `default of --${spec.flag}`);
      else assert.match(described[2]!, expected, `default of --${spec.flag}`);
    }
    for (const flag of ['--config', '--help', '--version'])
      assert.match(help.stdout, new RegExp(`^  ${flag}\\b`, 'm'));
  });

  test('--version prints the package version', () => {
    const version = run(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^readykit-balancer \d+\.\d+\.\d+\S*\n$/);
  });
});

describe('invalid configuration: exit 2, one line naming the key, no stack trace', () => {
  const badIndent = file('indent.yaml', 'listen: 127.0.0.1:0\nhealthCheck:\n  interval: 2s\n timeout: 1s\n');
  const duplicate = file('duplicate.yaml', 'listen: 127.0.0.1:0\nalgorithm: random\nlisten: 127.0.0.1:1\n');
  const unknownKey = file('unknown.yaml', 'healthCheck:\n  intervall: 2s\n');
  const badValue = file('bad-value.yaml', 'backends:\n  - url: http://127.0.0.1:1\n    weight: 5000\n');
  const cases: { name: string; args: string[]; stderr: RegExp }[] = [
    {
      name: 'unknown algorithm',
      args: ['--algorithm', 'fastest'],
      stderr: /^algorithm must be one of p2c-ewma, .*got "fastest"$/,
    },
    {
      name: 'listen without a port',
      args: ['--listen', 'localhost'],
      stderr: /^listen must be HOST:PORT.*got "localhost"$/,
    },
    {
      name: 'listen port out of range',
      args: ['--listen', '127.0.0.1:70000'],
      stderr: /^listen must be HOST:PORT/,
    },
    { name: 'unknown flag', args: ['--bogus'], stderr: /^unknown flag "--bogus"/ },
    {
      name: 'misspelt flag',
      args: ['--health-intervall', '2s'],
      stderr: /^unknown flag "--health-intervall" \(did you mean --health-interval\?\)$/,
    },
    { name: 'flag without its value', args: ['--algorithm'], stderr: /^flag "--algorithm" needs a value$/ },
    { name: 'stray word', args: ['start'], stderr: /^unexpected argument "start"/ },
    { name: 'bad duration', args: ['--health-interval', 'often'], stderr: /^healthCheck\.interval must be/ },
    { name: 'count below its minimum', args: ['--health-rise', '0'], stderr: /^healthCheck\.rise must be/ },
    {
      name: 'timeout above the interval',
      args: ['--health-interval', '1s', '--health-timeout', '2s'],
      stderr: /^healthCheck\.timeout must be at most healthCheck\.interval/,
    },
    {
      name: 'backend with a path',
      args: ['--backend', 'http://127.0.0.1:3000/api'],
      stderr: /^backends\[0\] must be an http\(s\) origin/,
    },
    {
      name: 'YAML indentation error',
      args: ['--config', badIndent],
      stderr: /^config file ".*indent\.yaml" line 4: /,
    },
    {
      name: 'YAML duplicate key',
      args: ['--config', duplicate],
      stderr: /^config file ".*duplicate\.yaml" line 3: Map keys must be unique/,
    },
    {
      name: 'unknown YAML key',
      args: ['--config', unknownKey],
      stderr: /^unknown config key "healthCheck\.intervall" \(did you mean "healthCheck\.interval"\?\)$/,
    },
    {
      name: 'bad value in YAML',
      args: ['--config', badValue],
      stderr: /^backends\[0\]\.weight must be a whole number from 1 to 1000, got 5000$/,
    },
    {
      name: 'admin listener off loopback without a token',
      args: ['--admin', '0.0.0.0:0'],
      stderr: /^adminToken is required when the admin listener is not on loopback$/,
    },
    {
      name: 'admin token too short (and not echoed)',
      args: ['--admin-token', 'hunter2'],
      stderr: /^adminToken must be 16 to 512 printable ASCII characters without spaces, got "\(hidden\)"$/,
    },
    {
      name: 'two discovery sources',
      args: ['--backend', 'http://127.0.0.1:1', '--dns', 'api.internal:8080'],
      stderr: /^give one discovery source, not backends and dns\.name$/,
    },
    {
      name: 'malformed DNS name',
      args: ['--dns', 'api.internal'],
      stderr: /^dns\.name must be HOST:PORT \(A and AAAA records\) or _service\._proto\.NAME/,
    },
    {
      name: 'malformed Kubernetes service',
      args: ['--k8s-service', 'Default/API'],
      stderr: /^kubernetes\.service must be a Service as \[NAMESPACE\/\]NAME/,
    },
    {
      name: 'missing config file',
      args: ['--config', join(dir, 'absent.yaml')],
      stderr: /^cannot read config file ".*absent\.yaml": ENOENT$/,
    },
  ];
  for (const { name, args, stderr } of cases) {
    test(name, () => {
      const result = run(['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...args]);
      assert.equal(result.status, 2, `exit code; stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      const lines = result.stderr.split('\n');
      assert.equal(lines.length, 2, `one line: ${JSON.stringify(result.stderr)}`);
      assert.equal(lines[1], '');
      assert.ok(lines[0]!.startsWith('readykit-balancer: '), lines[0]);
      assert.match(lines[0]!.slice('readykit-balancer: '.length), stderr);
      assert.doesNotMatch(result.stderr, /\bat .*:\d+:\d+|Error:/);
    });
  }

  test('a listener address already in use exits 1 with one line', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const result = run(['--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0']);
      assert.equal(result.status, 1, result.stderr);
      assert.equal(result.stderr, 'readykit-balancer: cannot listen: EADDRINUSE\n');
    } finally {
      taken.close();
    }
  });
});

describe('running', () => {
  const started: (BalancerProcess | ServiceProcess)[] = [];
  after(() => {
    for (const process of started) process.kill('SIGKILL');
  });

  test('a YAML config file with backends serves, and a flag wins over the same key in the file', async () => {
    const backend = await startService({ WARMUP_MS: '0' });
    started.push(backend);
    const config = file(
      'good.yaml',
      [
        '# the balancer of the e2e test',
        'listen: 127.0.0.1:0',
        'admin: 127.0.0.1:0',
        'algorithm: round-robin',
        'backends:',
        `  - url: ${backend.url}`,
        '    weight: 3',
        'healthCheck:',
        '  interval: 200ms',
        '  timeout: 150ms',
        '',
      ].join('\n'),
    );
    const bal = await startBalancer(['--config', config, '--algorithm', 'least-request']);
    started.push(bal);
    const report = await bal.waitFor('the backend ready', (r) =>
      r.backends.every((b) => b.state === 'ready'),
    );
    assert.equal(report.algorithm, 'least-request', 'the flag wins over the file');
    assert.deepEqual(
      report.backends.map((b) => [b.url, b.weight]),
      [[backend.url, 3]],
      'backends and weights come from the file',
    );
    const res = await fetch(`${bal.url}/api/items/7`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: '7', name: 'item 7' });
    bal.kill('SIGKILL');
  });

  test('an edited config file is applied without a restart; a broken edit is logged and ignored', async () => {
    const [one, two] = await Promise.all([
      startService({ WARMUP_MS: '0' }),
      startService({ WARMUP_MS: '0' }),
    ]);
    started.push(one, two);
    const lines = (algorithm: string, backends: string[]) =>
      [
        'listen: 127.0.0.1:0',
        'admin: 127.0.0.1:0',
        `algorithm: ${algorithm}`,
        'healthCheck: { interval: 200ms, timeout: 150ms }',
        'backends:',
        ...backends.map((url) => `  - ${url}`),
        '',
      ].join('\n');
    const config = file('watched.yaml', lines('p2c-ewma', [one.url]));
    const bal = await startBalancer(['--config', config]);
    started.push(bal);
    await bal.waitFor(
      'one backend ready',
      (r) => r.backends.length === 1 && r.backends[0]!.state === 'ready',
    );

    writeFileSync(config, lines('round-robin', [one.url, `${two.url} weight=2`]));
    await bal.waitForLine(/^config reloaded: backends, algorithm applied$/);
    const report = await bal.waitFor(
      'both ready',
      (r) => r.backends.filter((b) => b.state === 'ready').length === 2,
    );
    assert.equal(report.algorithm, 'round-robin');
    assert.deepEqual(report.backends.map((b) => b.weight).sort(), [1, 2]);

    writeFileSync(
      config,
      lines('round-robin', [one.url, two.url]).replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1'),
    );
    await bal.waitForLine(/^config reloaded: backends applied$/);
    await bal.waitForLine(/^config reloaded: listen changed; restart to apply$/);

    writeFileSync(config, 'algorithm: sideways\n');
    await bal.waitForLine(
      /^config reload rejected: algorithm must be one of .*; keeping the last good configuration$/,
    );
    assert.equal((await bal.backends()).algorithm, 'round-robin');
    assert.equal((await fetch(`${bal.url}/api/items/3`)).status, 200);
    bal.kill('SIGKILL');
  });

  // SIGTERM with a shutdown delay (what Kubernetes sends, readiness 503 first); SIGINT without (Ctrl-C).
  const signals: { signal: NodeJS.Signals; delayMs: number }[] = [
    { signal: 'SIGTERM', delayMs: 600 },
    { signal: 'SIGINT', delayMs: 0 },
  ];
  for (const { signal, delayMs } of signals) {
    test(`${signal} (shutdown delay ${delayMs} ms): a request in flight completes, then exit 0`, async () => {
      const slow = await startService({ WARMUP_MS: '0', LATENCY_MS: '1200' });
      started.push(slow);
      const bal = await startBalancer([
        '--listen=127.0.0.1:0',
        '--admin=127.0.0.1:0',
        '--backend',
        slow.url,
        '--health-interval=200',
        '--health-timeout=150',
        `--shutdown-delay=${delayMs}`,
      ]);
      started.push(bal);
      await bal.waitFor('the backend ready', (r) => r.backends.every((b) => b.state === 'ready'));
      const inFlight = fetch(`${bal.url}/api/items/1`).then(async (res) => ({
        status: res.status,
        body: await res.text(),
        at: Date.now(),
      }));
      await bal.waitFor('the request in flight', (r) => r.inFlight === 1);
      const signalledAt = Date.now();
      bal.kill(signal);
      if (delayMs > 0) {
        // Through the delay: readiness fails at once while the proxy still takes new requests.
        await sleep(100);
        assert.equal((await fetch(`${bal.admin}/readyz`)).status, 503);
        const during = await fetch(`${bal.url}/`);
        assert.equal(during.status, 200, 'still serving during the shutdown delay');
        await during.text();
      }
      const [answer, exit] = await Promise.all([inFlight, bal.exited]);
      assert.equal(answer.status, 200, answer.body);
      assert.deepEqual(JSON.parse(answer.body), { id: '1', name: 'item 1' });
      assert.equal(exit.code, 0, `exit code; output:\n${bal.output.join('\n')}`);
      assert.equal(exit.signal, null);
      assert.ok(exit.at >= answer.at, 'exited after the request in flight was answered');
      assert.ok(
        exit.at - signalledAt >= delayMs,
        `served through the delay: exited +${exit.at - signalledAt} ms`,
      );
      assert.ok(exit.at - signalledAt < 5000, `exited +${exit.at - signalledAt} ms after ${signal}`);
      assert.deepEqual(
        bal.output.filter((line) => /Error|^\s+at /.test(line)),
        [],
        'no error or stack trace printed',
      );
    });
  }
});
