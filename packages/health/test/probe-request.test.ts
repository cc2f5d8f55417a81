import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchProbe } from '../src/probe-request.ts';

const paths = { liveness: ['/healthz', '/livez'], readiness: ['/readyz'] };

test('matches probe paths with any query, and nothing else', () => {
  const cases: Array<[url: string, method: string, expected: unknown]> = [
    ['/healthz', 'GET', { kind: 'liveness', only: undefined, verbose: false, exclude: [] }],
    ['/livez', 'GET', { kind: 'liveness', only: undefined, verbose: false, exclude: [] }],
    ['/readyz', 'HEAD', { kind: 'readiness', only: undefined, verbose: false, exclude: [], head: true }],
    ['/readyz/', 'GET', { kind: 'readiness', only: undefined }],
    ['/readyz?verbose', 'GET', { kind: 'readiness', verbose: true }],
    ['/readyz?verbose=1&exclude=db', 'GET', { verbose: true, exclude: ['db'] }],
    ['/readyz?verbose=false', 'GET', { verbose: false }],
    ['/readyz?exclude=a,b&exclude=c', 'GET', { exclude: ['a', 'b', 'c'] }],
    ['/readyz?exclude=%zz&verbose', 'GET', { verbose: true, exclude: ['%zz'] }],
    ['/readyz?&&=&verbose', 'GET', { verbose: true }],
    ['/readyz/db', 'GET', { kind: 'readiness', only: 'db' }],
    ['/healthz/eventloop?verbose', 'GET', { kind: 'liveness', only: 'eventloop', verbose: true }],
  ];
  for (const [url, method, expected] of cases) {
    const m = matchProbe(url, method, undefined, paths);
    assert.ok(m.match && 'request' in m, `${method} ${url} should match`);
    for (const [key, value] of Object.entries(expected as object)) {
      assert.deepEqual((m.request as unknown as Record<string, unknown>)[key], value, `${url}: ${key}`);
    }
  }
});

test('does not match other paths', () => {
  for (const url of [
    '/',
    '/healthzz',
    '/ready',
    '/api/readyz',
    '/Readyz',
    '/healthz.json',
    '/readyz/db/extra',
    '',
  ]) {
    assert.deepEqual(matchProbe(url, 'GET', undefined, paths), { match: false }, url);
  }
});

test('refuses other methods with 405 and bad sub-paths with 404', () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', undefined]) {
    assert.deepEqual(matchProbe('/readyz', method, undefined, paths), { match: true, refuse: 405 });
  }
  for (const url of [
    '/readyz/%E0%A4%A',
    '/readyz/bad%0Aname',
    '/readyz/a%20b',
    `/readyz/${'x'.repeat(65)}`,
  ]) {
    assert.deepEqual(matchProbe(url, 'GET', undefined, paths), { match: true, refuse: 404 }, url);
  }
});

test('negotiates the response format from Accept', () => {
  const format = (accept: string | undefined) => {
    const m = matchProbe('/readyz', 'GET', accept, paths);
    return m.match && 'request' in m ? m.request.format : undefined;
  };
  assert.equal(format(undefined), 'text');
  assert.equal(format('*/*'), 'text');
  assert.equal(format('application/health+json'), 'health+json');
  assert.equal(format('text/html, application/health+json;q=0.9'), 'health+json');
  assert.equal(format('application/json'), 'json');
});

test('caps the number of exclude names', () => {
  const url = `/readyz?exclude=${Array.from({ length: 500 }, (_, i) => `c${i}`).join(',')}`;
  const m = matchProbe(url, 'GET', undefined, paths);
  assert.ok(m.match && 'request' in m);
  assert.equal(m.request.exclude.length, 64);
});
