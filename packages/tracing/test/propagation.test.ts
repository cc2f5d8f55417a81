import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { request as undiciRequest } from 'undici';
import { getRequestContext, outgoingHeaders, TracingErrorCodes } from '../src/index.ts';
import { getJson, serveRecorder, serveTraced } from './support.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

let downstream: Awaited<ReturnType<typeof serveRecorder>>;
before(async () => {
  downstream = await serveRecorder();
});
after(() => downstream.close());

function httpGet(url: string, headers?: Record<string, string> | string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, headers === undefined ? {} : { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

test('W3C in: the context survives awaits, and fetch and node:http carry the trace, id and a smaller budget', async () => {
  const server = await serveTraced({}, async () => {
    await sleep(5);
    const rc = getRequestContext();
    const active = trace.getSpanContext(context.active());
    await fetch(downstream.url).then((r) => r.text());
    await httpGet(downstream.url);
    return { rc, active };
  });
  try {
    downstream.seen.length = 0;
    const { body, headers } = await getJson(server.url, {
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: 'congo=t61rcWkgMzE',
      'x-request-id': 'req-42',
      'x-readykit-timeout-ms': '2000',
    });
    const { rc, active } = body as {
      rc: { traceId: string; spanId: string; parentSpanId: string; sampled: boolean; requestId: string };
      active: { traceId: string; spanId: string };
    };
    assert.equal(rc.traceId, TRACE);
    assert.equal(rc.parentSpanId, PARENT);
    assert.match(rc.spanId, HEX16);
    assert.notEqual(rc.spanId, PARENT);
    assert.equal(rc.sampled, true);
    assert.equal(rc.requestId, 'req-42');
    assert.equal(headers.get('x-request-id'), 'req-42');
    // OpenTelemetry-aware code sees the same ids through the plain API, with no SDK.
    assert.deepEqual([active.traceId, active.spanId], [TRACE, rc.spanId]);
    assert.equal(downstream.seen.length, 2);
    const spanIds = new Set<string>();
    for (const seen of downstream.seen) {
      const [version, traceId, spanId, flags] = String(seen.traceparent).split('-');
      assert.deepEqual([version, traceId, flags], ['00', TRACE, '01']);
      assert.match(spanId ?? '', HEX16);
      assert.notEqual(spanId, rc.spanId);
      spanIds.add(spanId ?? '');
      assert.equal(seen.tracestate, 'congo=t61rcWkgMzE');
      assert.equal(seen['x-request-id'], 'req-42');
      const budget = Number(seen['x-readykit-timeout-ms']);
      assert.ok(Number.isInteger(budget) && budget < 2000 && budget > 1000, `budget ${budget}`);
      assert.equal(seen.b3, undefined, 'b3 is not configured');
    }
    assert.equal(spanIds.size, 2, 'each outgoing call gets its own span id');
  } finally {
    await server.close();
  }
});

test('no trace and no valid request id: a trace starts here and a generated id is echoed, the bad one never', async () => {
  const server = await serveTraced({}, async () => {
    await fetch(downstream.url).then((r) => r.text());
    return getRequestContext();
  });
  try {
    downstream.seen.length = 0;
    const { body, headers } = await getJson(server.url, { 'x-request-id': 'has spaces; and=more' });
    const rc = body as { traceId: string; requestId: string; parentSpanId?: string; sampled: boolean };
    assert.match(rc.traceId, HEX32);
    assert.equal(rc.parentSpanId, undefined);
    assert.equal(rc.sampled, true);
    assert.match(rc.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(headers.get('x-request-id'), rc.requestId);
    assert.equal(downstream.seen[0]?.['x-request-id'], rc.requestId);
    assert.ok(String(downstream.seen[0]?.traceparent).includes(rc.traceId));
  } finally {
    await server.close();
  }
});

test('B3 single in, W3C and both B3 formats out', async () => {
  const server = await serveTraced({ propagators: ['tracecontext', 'b3', 'b3multi'] }, async () => {
    await fetch(downstream.url).then((r) => r.text());
    return getRequestContext();
  });
  try {
    downstream.seen.length = 0;
    const { body } = await getJson(server.url, { b3: `${TRACE}-${PARENT}-1` });
    const rc = body as { traceId: string; spanId: string; parentSpanId: string };
    assert.equal(rc.traceId, TRACE);
    assert.equal(rc.parentSpanId, PARENT);
    const seen = downstream.seen[0] ?? {};
    const [, traceId, spanId] = String(seen.traceparent).split('-');
    assert.equal(traceId, TRACE);
    assert.equal(seen.b3, `${TRACE}-${spanId}-1-${rc.spanId}`);
    assert.equal(seen['x-b3-traceid'], TRACE);
    assert.equal(seen['x-b3-spanid'], spanId);
    assert.equal(seen['x-b3-parentspanid'], rc.spanId);
    assert.equal(seen['x-b3-sampled'], '1');
  } finally {
    await server.close();
  }
});

test('B3 multi in with a 64-bit trace id; an unsampled trace stays unsampled downstream', async () => {
  const server = await serveTraced({ propagators: ['b3multi', 'tracecontext'] }, async () => {
    await fetch(downstream.url).then((r) => r.text());
    return getRequestContext();
  });
  try {
    downstream.seen.length = 0;
    const { body } = await getJson(server.url, {
      'x-b3-traceid': 'a3ce929d0e0e4736',
      'x-b3-spanid': PARENT,
      'x-b3-sampled': '0',
    });
    const rc = body as { traceId: string; sampled: boolean };
    assert.equal(rc.traceId, `0000000000000000a3ce929d0e0e4736`);
    assert.equal(rc.sampled, false);
    assert.match(String(downstream.seen[0]?.traceparent), /^00-0{16}a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    assert.equal(downstream.seen[0]?.['x-b3-sampled'], '0');
  } finally {
    await server.close();
  }
});

test('headers the caller sets itself are never overridden', async () => {
  const server = await serveTraced({}, async () => {
    await fetch(downstream.url, { headers: { 'x-request-id': 'mine', 'x-readykit-timeout-ms': '7' } });
    await httpGet(downstream.url, { 'x-request-id': 'mine-too' });
    return null;
  });
  try {
    downstream.seen.length = 0;
    await getJson(server.url, { 'x-request-id': 'theirs' });
    assert.equal(downstream.seen[0]?.['x-request-id'], 'mine');
    assert.equal(downstream.seen[0]?.['x-readykit-timeout-ms'], '7');
    assert.equal(downstream.seen[1]?.['x-request-id'], 'mine-too');
  } finally {
    await server.close();
  }
});

test('node:http with headers as an array cannot be reached by the channel: outgoingHeaders() is the way', async () => {
  const server = await serveTraced({}, async () => {
    // An array of headers gets no Host added, and Node's server refuses requests without one.
    const host = ['host', new URL(downstream.url).host];
    await httpGet(downstream.url, [...host, 'x-plain', '1']);
    const extra = outgoingHeaders();
    await httpGet(downstream.url, [...host, 'x-plain', '2', ...Object.entries(extra).flat()]);
    return extra;
  });
  try {
    downstream.seen.length = 0;
    const { body } = await getJson(server.url, { 'x-request-id': 'arr-1' });
    assert.equal(downstream.seen.length, 2);
    assert.equal(downstream.seen[0]?.['x-request-id'], undefined);
    assert.equal(downstream.seen[1]?.['x-request-id'], 'arr-1');
    assert.match(String(downstream.seen[1]?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal((body as Record<string, string>)['x-request-id'], 'arr-1');
  } finally {
    await server.close();
  }
});

test('calls made outside any request carry nothing, and outgoingHeaders() is empty there', async () => {
  downstream.seen.length = 0;
  const server = await serveTraced({}, async () => null);
  try {
    await fetch(downstream.url).then((r) => r.text());
    await httpGet(downstream.url);
    assert.equal(downstream.seen.length, 2);
    for (const seen of downstream.seen) {
      assert.equal(seen.traceparent, undefined);
      assert.equal(seen['x-request-id'], undefined);
    }
    assert.deepEqual(outgoingHeaders(), {});
  } finally {
    await server.close();
  }
});

test('an expired budget aborts outgoing calls before a byte is sent', async () => {
  const server = await serveTraced({}, async () => {
    const codes: string[] = [];
    await fetch(downstream.url).catch((error: { cause?: { code: string } }) =>
      codes.push(String(error.cause?.code)),
    );
    await httpGet(downstream.url).catch((error: { code: string }) => codes.push(error.code));
    return codes;
  });
  try {
    downstream.seen.length = 0;
    // 3 ms leaves nothing once the 5 ms margin is taken off.
    const { body } = await getJson(server.url, { 'x-readykit-timeout-ms': '3' });
    assert.deepEqual(body, [TracingErrorCodes.DEADLINE_EXCEEDED, TracingErrorCodes.DEADLINE_EXCEEDED]);
    assert.equal(downstream.seen.length, 0, 'the downstream saw no request');
  } finally {
    await server.close();
  }
});

test('a deadline that passes mid-call aborts fetch and node:http calls', async () => {
  const hanging = await serveRecorder({ hang: true });
  const server = await serveTraced({}, async () => {
    const started = performance.now();
    const results = await Promise.allSettled([fetch(hanging.url), httpGet(hanging.url)]);
    return {
      elapsed: performance.now() - started,
      codes: results.map((r) =>
        r.status === 'rejected'
          ? ((r.reason as { cause?: { code?: string }; code?: string }).cause?.code ??
            (r.reason as { code?: string }).code)
          : 'ok',
      ),
      aborted: getRequestContext()?.signal.aborted,
    };
  });
  try {
    const { body } = await getJson(server.url, { 'grpc-timeout': '150m' });
    const result = body as { elapsed: number; codes: string[]; aborted: boolean };
    assert.deepEqual(result.codes, [
      TracingErrorCodes.DEADLINE_EXCEEDED,
      TracingErrorCodes.DEADLINE_EXCEEDED,
    ]);
    assert.ok(result.elapsed >= 120 && result.elapsed < 1000, `aborted after ${result.elapsed} ms`);
    assert.equal(result.aborted, true);
    assert.equal(hanging.seen.length, 2, 'both calls had reached the downstream');
  } finally {
    await server.close();
    await hanging.close();
  }
});

test("the request's signal aborts with RK_ERR_CLIENT_CLOSED when the client goes away", async () => {
  let reason: { code?: string } | undefined;
  let resolveAborted = () => {};
  const aborted = {
    promise: new Promise<void>((resolve) => (resolveAborted = resolve)),
    resolve: () => resolveAborted(),
  };
  const server = await serveTraced({}, async () => {
    const signal = getRequestContext()?.signal;
    signal?.addEventListener('abort', () => {
      reason = signal.reason;
      aborted.resolve();
    });
    await aborted.promise;
    return null;
  });
  try {
    const controller = new AbortController();
    const pending = fetch(server.url, { signal: controller.signal }).catch(() => 'cancelled');
    await sleep(50);
    controller.abort();
    assert.equal(await pending, 'cancelled');
    await aborted.promise;
    assert.equal(reason?.code, TracingErrorCodes.CLIENT_CLOSED);
  } finally {
    await server.close();
  }
});

test('undici from npm (request API) gets the same headers and the same deadline abort', async () => {
  const server = await serveTraced({}, async () => {
    const ok = await undiciRequest(downstream.url);
    await ok.body.text();
    return null;
  });
  const expired = await serveTraced({}, async () => {
    const error = await undiciRequest(downstream.url).then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    return error;
  });
  try {
    downstream.seen.length = 0;
    await getJson(server.url, { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'npm-undici' });
    assert.equal(downstream.seen.length, 1);
    assert.match(String(downstream.seen[0]?.traceparent), new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    assert.equal(downstream.seen[0]?.['x-request-id'], 'npm-undici');
    const { body } = await getJson(expired.url, { 'x-readykit-timeout-ms': '1' });
    assert.equal(body, TracingErrorCodes.DEADLINE_EXCEEDED);
    assert.equal(downstream.seen.length, 1, 'the expired call never reached the downstream');
  } finally {
    await server.close();
    await expired.close();
  }
});
