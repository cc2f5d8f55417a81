import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidHost } from '../../src/proxy/host-header.ts';

test('isValidHost: DNS names, IPv4, bracketed IPv6, each with an optional port', () => {
  const cases: Array<[value: string, valid: boolean]> = [
    ['app.example', true],
    ['APP.Example.', true],
    ['my_service.ns.svc', true],
    ['localhost:8080', true],
    ['10.0.0.1:65535', true],
    ['[::1]', true],
    ['[2001:db8::1]:443', true],
    ['[::ffff:10.0.0.1]:80', true],
    ['a'.repeat(255), true],
    ['a'.repeat(256), false],
    ['', false],
    [':80', false],
    ['app.example:', false],
    ['app.example:65536', false],
    ['app.example:123456', false],
    ['app.example:8o', false],
    ['app.example:80:80', false],
    ['::1', false],
    ['[::1', false],
    ['[::1]x', false],
    ['[fe80::1%25eth0]', false],
    ['[garbage]', false],
    ['user@app.example', false],
    ['app.example, evil.example', false],
    ['app.example;for=x', false],
    ['app example', false],
    ['app.example/path', false],
    ['caf\u00e9.example', false],
    ['app%2eexample', false],
  ];
  for (const [value, valid] of cases) assert.equal(isValidHost(value), valid, JSON.stringify(value));
});
