import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCliArgs } from '../src/cli/cli-args.ts';
import { parseConfigText } from '../src/cli/config-file.ts';
import { BalancerErrorCodes } from '../src/errors.ts';
import { OPTION_TABLE } from '../src/option-table.ts';
import { resolveBalancerConfig } from '../src/options.ts';

function fromArgs(argv: string[], file: unknown = {}) {
  const args = parseCliArgs(argv);
  return resolveBalancerConfig(file, args.flags);
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.equal((error as { code?: string }).code, BalancerErrorCodes.INVALID_CONFIG);
    const message = (error as Error).message;
    assert.ok(!message.includes('\n'), 'one line');
    return message;
  }
  assert.fail('expected a configuration error');
}

describe('configuration', () => {
  it('defaults match the option table', () => {
    const config = resolveBalancerConfig();
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(config.admin, { host: '127.0.0.1', port: 9901 });
    assert.equal(config.algorithm, 'p2c-ewma');
    assert.equal(config.healthCheck.path, '/readyz');
    assert.equal(config.healthCheck.rise, 2);
    assert.equal(config.healthCheck.fall, 3);
    assert.equal(config.slowStart.window, 10_000);
    assert.equal(config.retry.budgetRatio, 0.2);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.healthCheck));
  });

  it('reads every flag into its config key', () => {
    const config = fromArgs([
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '[::1]:9000',
      '--backend',
      'http://127.0.0.1:3001',
      '--backend',
      'http://127.0.0.1:3002',
      'weight=3',
      '--backend',
      'http://127.0.0.1:3003 weight=2',
      '--algorithm',
      'maglev',
      '--hash-header',
      'X-User',
      '--health-path',
      '/ready',
      '--health-interval',
      '500ms',
      '--health-timeout',
      '0.2s',
      '--retries',
      '1',
      '--trusted-proxy',
      '10.0.0.0/8',
      '--trusted-proxy',
      '::1',
    ]);
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(config.admin, { host: '::1', port: 9000 });
    assert.deepEqual(config.backends, [
      { url: 'http://127.0.0.1:3001', weight: 1 },
      { url: 'http://127.0.0.1:3002', weight: 3 },
      { url: 'http://127.0.0.1:3003', weight: 2 },
    ]);
    assert.equal(config.algorithm, 'maglev');
    assert.equal(config.hashHeader, 'x-user');
    assert.equal(config.healthCheck.path, '/ready');
    assert.equal(config.healthCheck.interval, 500);
    assert.equal(config.healthCheck.timeout, 200);
    assert.equal(config.retry.maxRetries, 1);
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '::1']);
  });

  it('flags win over the config file', () => {
    const file = parseConfigText(
      'algorithm: round-robin\nhealthCheck:\n  rise: 4\n  path: /from-file\nbackends:\n  - http://127.0.0.1:1\n  - { url: "http://127.0.0.1:2", weight: 5 }\n',
      'test.yaml',
    );
    const config = fromArgs(['--health-path', '/from-flag'], file);
    assert.equal(config.algorithm, 'round-robin');
    assert.equal(config.healthCheck.rise, 4);
    assert.equal(config.healthCheck.path, '/from-flag');
    assert.deepEqual(
      config.backends.map((b) => b.weight),
      [1, 5],
    );
  });

  const bad: Array<[string, () => unknown, RegExp]> = [
    [
      'unknown flag',
      () => parseCliArgs(['--algoritm', 'random']),
      /unknown flag "--algoritm" \(did you mean --algorithm\?\)/,
    ],
    ['flag without value', () => parseCliArgs(['--listen']), /--listen/],
    ['stray word', () => parseCliArgs(['oops']), /unexpected argument "oops"/],
    ['bad algorithm', () => fromArgs(['--algorithm', 'fastest']), /^algorithm must be one of/],
    ['bad address', () => fromArgs(['--listen', 'localhost']), /^listen must be HOST:PORT/],
    ['port too large', () => fromArgs(['--listen', '127.0.0.1:70000']), /^listen must be/],
    [
      'backend with path',
      () => fromArgs(['--backend', 'http://a:1/x']),
      /^backends\[0\] must be an http\(s\) origin/,
    ],
    [
      'backend bad weight',
      () => fromArgs(['--backend', 'http://a:1', 'weight=0']),
      /^backends\[0\]\.weight must be/,
    ],
    [
      'backend twice',
      () => fromArgs(['--backend', 'http://a:1', '--backend', 'http://a:1/']),
      /lists http:\/\/a:1 twice/,
    ],
    [
      'negative duration',
      () => fromArgs(['--health-interval=-5']),
      /^healthCheck\.interval must be a duration/,
    ],
    [
      'rise zero',
      () => fromArgs(['--health-rise', '0']),
      /^healthCheck\.rise must be a whole number from 1 to 100/,
    ],
    ['percent > 100', () => fromArgs(['--panic-threshold', '150']), /^panicThreshold must be a percentage/],
    [
      'ratio > 1',
      () => fromArgs(['--retry-budget-ratio', '2']),
      /^retry\.budgetRatio must be a number from 0 to 1/,
    ],
    [
      'bad cidr',
      () => fromArgs(['--trusted-proxy', '10.0.0.0/33']),
      /^trustedProxies\[0\] must be an IP address or CIDR/,
    ],
    [
      'timeout above interval',
      () => fromArgs(['--health-interval', '100', '--health-timeout', '200']),
      /healthCheck\.timeout must be at most/,
    ],
    [
      'table size not prime',
      () => fromArgs(['--maglev-table-size', '65536']),
      /maglevTableSize must be a prime/,
    ],
    [
      'unknown key in file',
      () => resolveBalancerConfig({ healthCheck: { raise: 2 } }),
      /unknown config key "healthCheck\.raise" \(did you mean "healthCheck\.rise"\?\)/,
    ],
    ['file not a mapping', () => resolveBalancerConfig(['a']), /must be a mapping/],
    [
      'yaml error with line',
      () => parseConfigText('a: 1\nb: [\n', 'x.yaml'),
      /config file "x\.yaml" line \d+:/,
    ],
    ['duplicate yaml key', () => parseConfigText('a: 1\na: 2\n', 'x.yaml'), /config file "x\.yaml" line 2/],
  ];
  for (const [name, run, expected] of bad) {
    it(`refuses ${name} with one line naming the key`, () => {
      assert.match(refusal(run), expected);
    });
  }

  it('never echoes control characters from input', () => {
    const message = refusal(() => fromArgs(['--algorithm', 'x\u001b[31mred\n']));
    assert.ok(!message.includes(String.fromCharCode(27)), message);
  });

  it('has one flag and one key per setting', () => {
    assert.equal(new Set(OPTION_TABLE.map((s) => s.flag)).size, OPTION_TABLE.length);
    assert.equal(new Set(OPTION_TABLE.map((s) => s.key)).size, OPTION_TABLE.length);
  });
});
