import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { formatDnsServerAddress, readDnsServerAddress } from '../../src/discover/dns-server-address.ts';

describe('readDnsServerAddress', () => {
  it('reads back every form Resolver.getServers() returns', () => {
    const resolver = new Resolver();
    resolver.setServers(['10.0.0.2', '10.0.0.3:5353', '::1', '[fd00::53]:5353']);
    assert.deepEqual(
      resolver.getServers().map((text) => readDnsServerAddress(text)),
      [
        { host: '10.0.0.2', port: 53 },
        { host: '10.0.0.3', port: 5353 },
        { host: '::1', port: 53 },
        { host: 'fd00::53', port: 5353 },
      ],
    );
  });

  it('refuses host names, bad ports and IPv4 in brackets', () => {
    for (const text of [
      'dns.example',
      'dns.example:53',
      '10.0.0.2:0',
      '10.0.0.2:65536',
      '[10.0.0.2]:53',
      '::1:x',
      '',
    ]) {
      assert.equal(readDnsServerAddress(text), undefined, text);
    }
  });

  it('formats what setServers() takes', () => {
    const resolver = new Resolver();
    resolver.setServers([
      formatDnsServerAddress({ host: 'fd00::53', port: 5353 }),
      formatDnsServerAddress({ host: '10.0.0.2', port: 53 }),
    ]);
    assert.deepEqual(resolver.getServers(), ['[fd00::53]:5353', '10.0.0.2']);
  });
});
