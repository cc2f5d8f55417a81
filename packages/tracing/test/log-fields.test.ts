import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { correlatedConsole, logFields } from '../src/index.ts';
import { getJson, serveTraced } from './support.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

test('logFields and correlatedConsole carry the request ids inside a request and nothing outside', async () => {
  const lines: unknown[][] = [];
  const sink = {
    log: (...args: unknown[]) => lines.push(['log', ...args]),
    info: (...args: unknown[]) => lines.push(['info', ...args]),
    warn: (...args: unknown[]) => lines.push(['warn', ...args]),
    error: (...args: unknown[]) => lines.push(['error', ...args]),
    debug: (...args: unknown[]) => lines.push(['debug', ...args]),
  };
  const logger = correlatedConsole(sink);
  const server = await serveTraced({ env: {} }, async () => {
    logger.info('order %d placed', 7);
    logger.error({ at: 'db' });
    return logFields();
  });
  try {
    const { body } = await getJson(server.url, {
      traceparent: `00-${TRACE}-00f067aa0ba902b7-00`,
      'x-request-id': 'abc-123',
    });
    const fields = body as { trace_id: string; span_id: string; trace_flags: string; request_id: string };
    assert.equal(fields.trace_id, TRACE);
    assert.match(fields.span_id, /^[0-9a-f]{16}$/);
    assert.equal(fields.trace_flags, '00');
    assert.equal(fields.request_id, 'abc-123');
    const prefix = `trace_id=${TRACE} span_id=${fields.span_id} request_id=abc-123`;
    assert.deepEqual(lines, [
      ['info', `${prefix} order %d placed`, 7],
      ['error', prefix, { at: 'db' }],
    ]);
    lines.length = 0;
    logger.warn('outside');
    assert.deepEqual(lines, [['warn', 'outside']]);
    assert.deepEqual(logFields(), {});
  } finally {
    await server.close();
  }
});

test('pino({ mixin: logFields }) puts the ids on every line logged during a request', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const log = pino({ mixin: logFields }, sink);
  const server = await serveTraced({ env: {} }, async () => {
    log.info({ order: 7 }, 'placed');
    return null;
  });
  try {
    await getJson(server.url, { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, 'x-request-id': 'pino-1' });
    log.info('outside');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.trace_id, TRACE);
    assert.equal(lines[0]?.request_id, 'pino-1');
    assert.equal(lines[0]?.trace_flags, '01');
    assert.equal(lines[0]?.order, 7);
    assert.equal(lines[0]?.msg, 'placed');
    assert.equal(lines[1]?.trace_id, undefined);
    assert.equal(lines[1]?.msg, 'outside');
  } finally {
    await server.close();
  }
});
