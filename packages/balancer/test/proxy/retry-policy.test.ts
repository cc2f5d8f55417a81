import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { request } from 'undici';
import {
  failureCode,
  hasIdempotencyKey,
  isRetryableFailure,
  isRetryableRequest,
  isUnsentFailure,
} from '../../src/proxy/retry-policy.ts';

test('retryable requests: idempotent methods, or any with an Idempotency-Key', () => {
  const cases: Array<[method: string, key: boolean, retryable: boolean]> = [
    ['GET', false, true],
    ['HEAD', false, true],
    ['OPTIONS', false, true],
    ['PUT', false, true],
    ['DELETE', false, true],
    ['TRACE', false, true],
    ['POST', false, false],
    ['PATCH', false, false],
    ['CONNECT', false, false],
    ['get', false, false],
    ['POST', true, true],
    ['PATCH', true, true],
  ];
  for (const [method, key, retryable] of cases)
    assert.equal(isRetryableRequest(method, key), retryable, method);
});

test('hasIdempotencyKey reads raw headers in any case; an empty key is no key', () => {
  const cases: Array<[raw: string[], has: boolean]> = [
    [['Idempotency-Key', '8e03978e-40d5-43e8-bc93-6894a57f9324'], true],
    [['content-type', 'x', 'IDEMPOTENCY-KEY', 'k'], true],
    [['Idempotency-Key', ''], false],
    [['Idempotency-Keys', 'k'], false],
    [[], false],
  ];
  for (const [raw, has] of cases) assert.equal(hasIdempotencyKey(raw), has, JSON.stringify(raw));
});

test('failures: unsent ones always, lost connections when retryable, never once a response started', () => {
  const cases: Array<
    [code: string | undefined, retryable: boolean, responseStarted: boolean, retry: boolean]
  > = [
    ['ECONNREFUSED', false, false, true],
    ['UND_ERR_CONNECT_TIMEOUT', false, false, true],
    ['ENOTFOUND', false, false, true],
    ['EHOSTUNREACH', false, false, true],
    ['UND_ERR_CLOSED', false, false, true],
    ['ECONNREFUSED', true, true, false],
    ['ECONNRESET', true, false, true],
    ['ECONNRESET', false, false, false],
    ['UND_ERR_SOCKET', true, false, true],
    ['UND_ERR_SOCKET', false, false, false],
    ['UND_ERR_SOCKET', true, true, false],
    ['EPIPE', true, false, true],
    ['ETIMEDOUT', true, false, true],
    ['ETIMEDOUT', false, false, false],
    ['UND_ERR_HEADERS_TIMEOUT', true, false, false],
    ['UND_ERR_BODY_TIMEOUT', true, false, false],
    ['UND_ERR_ABORTED', true, false, false],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', true, false, false],
    ['HPE_INVALID_CONSTANT', true, false, false],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', true, false, false],
    [undefined, true, false, false],
  ];
  for (const [code, retryable, started, retry] of cases) {
    assert.equal(isRetryableFailure(code, retryable, started), retry, `${code} ${retryable} ${started}`);
  }
  assert.equal(isUnsentFailure('ECONNREFUSED'), true);
  assert.equal(isUnsentFailure('ECONNRESET'), false);
  assert.equal(isUnsentFailure(undefined), false);
});

test('failureCode finds the code on the error, inside an AggregateError, or on its cause', () => {
  const coded = (code: string) => Object.assign(new Error('x'), { code });
  const cases: Array<[error: unknown, code: string | undefined]> = [
    [coded('ECONNRESET'), 'ECONNRESET'],
    [new AggregateError([new Error('no code'), coded('ECONNREFUSED')]), 'ECONNREFUSED'],
    [new Error('wrapped', { cause: coded('UND_ERR_SOCKET') }), 'UND_ERR_SOCKET'],
    [Object.assign(new Error('x'), { code: 42 }), undefined],
    ['ECONNRESET', undefined],
    [null, undefined],
  ];
  for (const [error, code] of cases) assert.equal(failureCode(error), code);
});

async function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<[Server, string]> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return [server, `http://127.0.0.1:${port}`];
}

async function failureOf(url: string, readBody: boolean): Promise<{ error: unknown; started: boolean }> {
  let started = false;
  try {
    const response = await request(url, { method: 'POST', body: 'x' });
    started = true;
    if (readBody) await response.body.text();
  } catch (error) {
    return { error, started };
  }
  assert.fail('the request should fail');
}

test('real undici failures are classified: refused, closed before answering, closed mid-body', async () => {
  const [closed, closedUrl] = await listen(() => {});
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await failureOf(closedUrl, false);
  assert.equal(failureCode(refused.error), 'ECONNREFUSED');
  assert.equal(isRetryableFailure(failureCode(refused.error), false, refused.started), true, 'POST too');

  const [hangUp, hangUpUrl] = await listen((socket) => socket.once('data', () => socket.destroy()));
  const midBodyServer = await listen((socket) =>
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab');
      socket.destroy();
    }),
  );
  try {
    const lost = await failureOf(hangUpUrl, false);
    assert.equal(failureCode(lost.error), 'UND_ERR_SOCKET');
    assert.equal(isRetryableFailure(failureCode(lost.error), true, lost.started), true, 'idempotent');
    assert.equal(isRetryableFailure(failureCode(lost.error), false, lost.started), false, 'not idempotent');

    const midBody = await failureOf(midBodyServer[1], true);
    assert.equal(midBody.started, true);
    assert.equal(isRetryableFailure(failureCode(midBody.error), true, midBody.started), false);
  } finally {
    hangUp.close();
    midBodyServer[0].close();
  }
});
