import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { EventStreamHub, type EventStreamHubOptions, formatEvent } from '../../src/admin/event-stream-hub.ts';
import { openEventStream } from '../support/sse-client.ts';
import { until } from '../support/test-backend.ts';

/** A loopback server whose every request opens a stream on `hub` (503 when refused). */
async function serve(
  t: TestContext,
  options: Partial<EventStreamHubOptions> & Pick<EventStreamHubOptions, 'tick'>,
) {
  const hub = new EventStreamHub({
    maxClients: 2,
    intervalMs: 50,
    heartbeatMs: 60_000,
    retryMs: 1500,
    ...options,
  });
  const server: Server = createServer((_req, res) => {
    const opened = hub.open(res, formatEvent('hello', '{}'));
    if (opened !== 'opened') res.writeHead(503).end(opened);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    hub.close();
    server.closeAllConnections();
    server.close();
  });
  return { hub, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EventStreamHub', () => {
  it('opens with the retry delay and the first events, then writes each tick to every client', async (t) => {
    let ticks = 0;
    const { url } = await serve(t, { tick: () => formatEvent('tick', String(++ticks)) });
    const client = await openEventStream(url);
    t.after(() => client.close());
    assert.equal(client.status, 200);
    assert.equal(client.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(client.headers['cache-control'], 'no-store');
    await client.next((e) => e.event === 'tick' && Number(e.data) >= 2);
    assert.equal(client.lines[0], 'retry: 1500');
    assert.deepEqual(client.events[0], { event: 'hello', data: '{}' });
  });

  it('runs no timer while no stream is open', async (t) => {
    let ticks = 0;
    const { hub, url } = await serve(t, { tick: () => formatEvent('tick', String(++ticks)) });
    await sleep(200);
    assert.equal(ticks, 0, 'no tick before the first client');
    const client = await openEventStream(url);
    await client.next((e) => e.event === 'tick');
    client.close();
    await until(() => hub.size === 0, 2000, 'client gone');
    const after = ticks;
    await sleep(200);
    assert.equal(ticks, after, 'no tick once the last client left');
  });

  it('sends a heartbeat comment at the set pace', async (t) => {
    const { url } = await serve(t, { tick: () => '', heartbeatMs: 100 });
    const client = await openEventStream(url);
    t.after(() => client.close());
    await until(() => client.lines.filter((l) => l === ': heartbeat').length >= 2, 2000, 'two heartbeats');
  });

  it('refuses streams beyond its limit, and takes one again once a stream closes', async (t) => {
    const { hub, url } = await serve(t, { tick: () => '' });
    const first = await openEventStream(url);
    const second = await openEventStream(url);
    t.after(() => {
      first.close();
      second.close();
    });
    const third = await openEventStream(url);
    assert.equal(third.status, 503);
    assert.equal(await third.text(), 'full');
    first.close();
    await until(() => hub.size === 1, 2000, 'one stream left');
    const fourth = await openEventStream(url);
    t.after(() => fourth.close());
    assert.equal(fourth.status, 200);
  });

  it('ends every stream on close, with its last events, and refuses new ones', async (t) => {
    const { hub, url } = await serve(t, { tick: () => '' });
    const client = await openEventStream(url);
    await client.next((e) => e.event === 'hello');
    hub.close(formatEvent('closing', '{}'));
    await client.ended;
    assert.equal(client.events.at(-1)?.event, 'closing');
    assert.equal(hub.size, 0);
    const late = await openEventStream(url);
    assert.equal(late.status, 503);
    assert.equal(await late.text(), 'closed');
  });

  it('cuts a client that stops reading instead of buffering for it', async (t) => {
    const big = `data: ${'x'.repeat(256 * 1024)}\n\n`;
    const { hub, url } = await serve(t, { tick: () => big, intervalMs: 20 });
    const client = await openEventStream(url);
    t.after(() => client.close());
    await client.next((e) => e.event === 'hello');
    client.pause();
    // The socket buffers fill, then the response's; past 1 MiB the hub drops the client.
    await until(() => hub.size === 0, 10_000, 'the stalled client cut');
    client.resume();
    await client.ended;
  });
});
