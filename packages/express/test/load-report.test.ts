import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOAD_REPORT_HEADER, parseLoadReport } from '@readykit/metrics';
import express from 'express';
import { type ReadykitOptions, readykit } from '../src/index.ts';

/** An app behind the kit with a fast route and a slow one that answers when `release()` is called. */
async function serveApp(options: ReadykitOptions, t: test.TestContext) {
  const kit = readykit({ ...options, autoAttach: false, shutdown: { signals: [], exit: false } });
  t.after(() => kit.close());
  let waiting: Array<() => void> = [];
  const app = express();
  app.use(kit);
  app.get('/fast', (_req, res) => {
    res.send('fast');
  });
  app.get('/slow', (_req, res) => {
    waiting.push(() => res.send('slow'));
  });
  const server = await new Promise<Server>((resolve) => {
    const s: Server = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    kit,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    waiting: () => waiting.length,
    release() {
      for (const answer of waiting) answer();
      waiting = [];
    },
  };
}

test('metrics: { loadReport: true } puts the load report on app responses', async (t) => {
  const app = await serveApp({ metrics: { loadReport: true } }, t);
  const res = await fetch(`${app.url}/fast`);
  assert.equal(await res.text(), 'fast');
  const header = res.headers.get(LOAD_REPORT_HEADER);
  assert.match(header ?? '', /^TEXT application_utilization=(0|1|0\.\d{1,3}), named_metrics\.in_flight=1$/);
  const report = parseLoadReport(header!);
  assert.equal(report?.inFlight, 1);
  assert.ok(report.utilization !== undefined && report.utilization >= 0 && report.utilization <= 1);
});

test('no load report by default', async (t) => {
  const app = await serveApp({}, t);
  const res = await fetch(`${app.url}/fast`);
  assert.equal(await res.text(), 'fast');
  assert.equal(res.headers.get(LOAD_REPORT_HEADER), null);
  assert.equal(app.kit.metrics?.options.loadReport, false);
});

test('the reported in_flight rises with concurrent slow requests', async (t) => {
  const app = await serveApp({ metrics: { loadReport: true } }, t);
  const slow = [1, 2, 3].map(async (n) => {
    // One after the other, so each starts with the previous ones still in flight.
    while (app.waiting() < n - 1) await sleep(2);
    return fetch(`${app.url}/slow`);
  });
  while (app.waiting() < 3) await sleep(2);
  const fast = await fetch(`${app.url}/fast`);
  await fast.text();
  app.release();
  const answers = await Promise.all(slow);
  const counts = answers.map((res) => parseLoadReport(res.headers.get(LOAD_REPORT_HEADER) ?? '')?.inFlight);
  assert.deepEqual(counts, [1, 2, 3]);
  assert.equal(parseLoadReport(fast.headers.get(LOAD_REPORT_HEADER) ?? '')?.inFlight, 4);
  await Promise.all(answers.map((res) => res.text()));
  // Drained: a new request sees only itself.
  while ((app.kit.metrics?.inFlight ?? 0) > 0) await sleep(2);
  const after = await fetch(`${app.url}/fast`);
  await after.text();
  assert.equal(parseLoadReport(after.headers.get(LOAD_REPORT_HEADER) ?? '')?.inFlight, 1);
});
