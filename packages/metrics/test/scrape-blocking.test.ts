import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { createMetrics } from '../src/index.ts';
import { find, parseExposition, scrapeText, serve } from './support.ts';

const SERIES = 5_000;
/** "A few tens of milliseconds", with room for a slow, shared CI machine. */
const MAX_BLOCK_MS = 100;

class FakeResponse extends EventEmitter {
  statusCode = 200;
  writableFinished = true;
  readonly req: { method: string; url: string };
  constructor(req: { method: string; url: string }) {
    super();
    this.req = req;
  }
}

test(`a scrape of ${SERIES} label sets does not block the event loop`, async (t) => {
  const metrics = createMetrics({ maxSeries: SERIES, runtime: false, route: (req) => req.url });
  for (let i = 0; i < SERIES; i++) {
    const req = { method: 'GET', url: `/items/${i}` };
    const res = new FakeResponse(req);
    metrics.track(req as never, res as never);
    res.emit('close');
  }
  assert.equal(metrics.series, SERIES);
  const served = await serve((req, res) => {
    if (!metrics.handle(req, res)) res.end('ok');
  });
  t.after(async () => {
    await served.close();
    await metrics.close();
  });

  for (const accept of [undefined, 'application/openmetrics-text; version=1.0.0']) {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    // A timer that should fire every 2 ms: its worst drift is the longest stretch the loop was blocked.
    let last = performance.now();
    let worstGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 2);
    delay.enable();
    const started = performance.now();
    const res = await scrapeText(served.url, accept);
    const elapsed = performance.now() - started;
    delay.disable();
    clearInterval(ticker);

    assert.equal(res.status, 200);
    const samples = parseExposition(res.body);
    assert.equal(find(samples, 'http_requests_total').length, SERIES);
    assert.equal(find(samples, 'http_request_duration_seconds_bucket').length, SERIES * 15);
    const maxDelayMs = delay.max / 1e6;
    t.diagnostic(
      `${accept ?? 'text 0.0.4'}: ${(res.body.length / 1e6).toFixed(1)} MB, ${samples.length} samples in ${elapsed.toFixed(0)} ms; ` +
        `longest block: ${maxDelayMs.toFixed(1)} ms (event loop delay), ${worstGap.toFixed(1)} ms (timer gap)`,
    );
    assert.ok(maxDelayMs < MAX_BLOCK_MS, `event loop blocked for ${maxDelayMs.toFixed(1)} ms`);
    assert.ok(worstGap < MAX_BLOCK_MS, `a 2 ms timer waited ${worstGap.toFixed(1)} ms`);
  }
});
