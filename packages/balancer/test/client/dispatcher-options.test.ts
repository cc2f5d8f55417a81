import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BalancedDispatcher, createBalancedDispatcher } from '../../src/client/balanced-dispatcher.ts';
import type { BalancedDispatcherOptions } from '../../src/client/dispatcher-options.ts';
import { StaticDiscovery } from '../../src/discover/static-discovery.ts';

const BACKENDS = ['http://127.0.0.1:9'];

/** Asserts that `options` are refused with RK_ERR_INVALID_CONFIG and a message naming every key in `names`. */
function refused(options: unknown, ...names: string[]): void {
  assert.throws(
    () => new BalancedDispatcher(options as BalancedDispatcherOptions),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'RK_ERR_INVALID_CONFIG', error.message);
      for (const name of names) assert.ok(error.message.includes(name), `"${error.message}" names ${name}`);
      return true;
    },
  );
}

test('an origin that is not a bare http(s) origin is refused, naming origin', () => {
  for (const origin of [
    'inventory.test',
    'ftp://inventory.test',
    'http://inventory.test/api',
    'http://inventory.test/?q=1',
    'http://user:pw@inventory.test',
    42,
    undefined,
  ]) {
    refused({ origin, backends: BACKENDS }, 'origin');
  }
});

test('a setting of the proxy’s listener or process is refused, naming the key', () => {
  refused({ origin: 'http://inventory.test', backends: BACKENDS, listen: '0.0.0.0:8080' }, 'listen');
  refused(
    { origin: 'http://inventory.test', backends: BACKENDS, timeouts: { total: '5s' } },
    'timeouts.total',
  );
  refused(
    { origin: 'http://inventory.test', backends: BACKENDS, dns: { name: 'api:80' } },
    'dns.name',
    'discovery',
  );
});

test('an unknown key is refused, naming it', () => {
  refused(
    { origin: 'http://inventory.test', backends: BACKENDS, healthChek: { interval: '1s' } },
    'healthChek',
  );
  refused(
    { origin: 'http://inventory.test', backends: BACKENDS, healthCheck: { intervall: '1s' } },
    'healthCheck.intervall',
  );
});

test('discovery and backends together are refused, naming both; neither is refused too', () => {
  const discovery = new StaticDiscovery([{ url: 'http://127.0.0.1:9', weight: 1 }]);
  refused({ origin: 'http://inventory.test', backends: BACKENDS, discovery }, 'discovery', 'backends');
  refused({ origin: 'http://inventory.test' }, 'discovery', 'backends');
  refused({ origin: 'http://inventory.test', discovery: { not: 'a discovery' } }, 'discovery');
});

test('a balancer setting out of range, or an option of the wrong type, is refused naming it', () => {
  refused(
    { origin: 'http://inventory.test', backends: BACKENDS, healthCheck: { interval: '10ms' } },
    'healthCheck.interval',
  );
  refused({ origin: 'http://inventory.test', backends: BACKENDS, algorithm: 'fastest' }, 'algorithm');
  refused({ origin: 'http://inventory.test', backends: BACKENDS, rng: 0.5 }, 'rng');
  refused({ origin: 'http://inventory.test', backends: BACKENDS, name: 'has space' }, 'name');
  refused({ origin: 'http://inventory.test', backends: BACKENDS, fallback: {} }, 'fallback');
  refused({ origin: 'http://inventory.test', backends: ['not a url'] }, 'backends');
});

test('valid options are accepted: origin normalised, name from the host, settings applied', async () => {
  const d = createBalancedDispatcher({
    origin: 'HTTP://Inventory.TEST:80',
    backends: ['http://127.0.0.1:9'],
    healthCheck: { interval: '150ms' },
    loadReport: { weight: 2 },
    algorithm: 'round-robin',
  });
  try {
    assert.equal(d.origin, 'http://inventory.test');
    assert.equal(d.name, 'inventory.test');
    assert.equal(d.cluster.config.healthCheck.interval, 150);
    assert.equal(d.cluster.config.loadReport.weight, 2);
    assert.equal(d.cluster.balance.name, 'round-robin');
  } finally {
    await d.close();
  }
});
