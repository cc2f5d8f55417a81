import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { fetch, request } from 'undici';
import { ORIGIN, sleep, startDispatcher } from './dispatcher-fixture.ts';

const MB = 1024 * 1024;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Sends `data` in 64 KiB writes, waiting for 'drain' when the socket is full; counts bytes handed over. */
function download(data: Buffer, progress: { written: number }) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
    const step = 64 * 1024;
    const pump = (): void => {
      while (progress.written < data.length) {
        const chunk = data.subarray(progress.written, progress.written + step);
        progress.written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };
}

/** Answers the received body's length and hash. */
function digest(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let length = 0;
  req.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
  });
  req.on('end', () => res.end(`${length} ${hash.digest('hex')}`));
}

test('a 20 MB response read slowly streams with backpressure and arrives intact', async (t) => {
  const data = randomBytes(20 * MB);
  const progress = { written: 0 };
  const { d, backends } = await startDispatcher(t, ['a']);
  backends[0]!.handler = download(data, progress);
  const res = await fetch(`${ORIGIN}/big`, { dispatcher: d });
  const reader = res.body!.getReader();
  const received: Buffer[] = [];
  const first = await reader.read();
  received.push(Buffer.from(first.value!));
  // The caller stops reading: the backend must stall well short of the whole body.
  await sleep(300);
  const aheadWhilePaused = progress.written;
  assert.ok(
    aheadWhilePaused < 10 * MB,
    `the backend wrote ${aheadWhilePaused} bytes while the caller read none`,
  );
  for (let n = 1; ; n++) {
    const { done, value } = await reader.read();
    if (done) break;
    received.push(Buffer.from(value));
    if (n % 32 === 0) await sleep(5);
  }
  const body = Buffer.concat(received);
  assert.equal(body.length, data.length);
  assert.equal(sha256(body), sha256(data));
  assert.equal(d.inFlight, 0);
});

test('a several-MB upload arrives intact: a Buffer through undici.request, a string through fetch', async (t) => {
  const { d, backends } = await startDispatcher(t, ['a']);
  backends[0]!.handler = digest;
  const buffer = randomBytes(8 * MB);
  const { statusCode, body } = await request(`${ORIGIN}/upload`, {
    dispatcher: d,
    method: 'PUT',
    body: buffer,
  });
  assert.equal(statusCode, 200);
  assert.equal(await body.text(), `${buffer.length} ${sha256(buffer)}`);

  const text = randomBytes(3 * MB).toString('base64');
  const res = await fetch(`${ORIGIN}/upload`, { dispatcher: d, method: 'POST', body: text });
  assert.equal(await res.text(), `${Buffer.byteLength(text)} ${sha256(text)}`);
  assert.equal(backends[0]!.seen.length, 2);
});
