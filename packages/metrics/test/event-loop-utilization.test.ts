import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EluWindow } from '../src/event-loop-utilization.ts';
import { createMetrics, utilizationBetween } from '../src/index.ts';
import { find, scrapeSamples, value } from './support.ts';

test('utilizationBetween: active share of elapsed loop time, clamped, 0 when no time passed', () => {
  assert.equal(utilizationBetween({ idle: 0, active: 0 }, { idle: 75, active: 25 }), 0.25);
  assert.equal(utilizationBetween({ idle: 100, active: 100 }, { idle: 100, active: 200 }), 1);
  assert.equal(utilizationBetween({ idle: 100, active: 100 }, { idle: 200, active: 100 }), 0);
  assert.equal(utilizationBetween({ idle: 5, active: 5 }, { idle: 5, active: 5 }), 0);
});

test('EluWindow compares now with the oldest sample of the window', () => {
  // A fake loop: each step adds 100 ms, busy for `busy` ms of it.
  let idle = 0;
  let active = 0;
  const advance = (busy: number) => {
    active += busy;
    idle += 100 - busy;
  };
  const w = new EluWindow({ window: 300, interval: 100, sample: () => ({ idle, active }) });
  assert.equal(w.value(), 0, 'no sample yet');
  w.tick(); // t=0
  advance(100);
  assert.equal(w.value(), 1, 'fully busy since the first sample');
  w.tick(); // t=100
  advance(0);
  w.tick(); // t=200
  advance(0);
  assert.ok(Math.abs(w.value() - 1 / 3) < 1e-9, 'one busy step out of three');
  w.tick(); // t=300: the ring (3 slots) drops the t=0 sample
  advance(0);
  assert.ok(Math.abs(w.value() - 0) < 1e-9, 'the busy step slid out of the window');
  advance(50);
  assert.ok(Math.abs(w.value() - 50 / 400) < 1e-9);
});

test("EluWindow.start() samples on an unref'd timer; stop() clears it", () => {
  const w = new EluWindow({ window: 1000, interval: 100 });
  w.start();
  w.start(); // idempotent
  const value = w.value();
  assert.ok(value >= 0 && value <= 1);
  w.stop();
});

test('nodejs_eventloop_utilization is between 0 and 1 and rises while the loop is busy', async (t) => {
  const metrics = createMetrics({
    runtime: { defaultMetrics: false, eventLoopUtilization: { window: 400, interval: 50 } },
  });
  t.after(() => metrics.close());
  await new Promise((resolve) => setTimeout(resolve, 450)); // an idle window
  const idle = value(await scrapeSamples(metrics), 'nodejs_eventloop_utilization');
  assert.ok(idle >= 0 && idle <= 1, `idle ${idle}`);

  const until = performance.now() + 300;
  while (performance.now() < until) {
    // busy: the loop gets no turn for 300 ms
  }
  const busy = value(await scrapeSamples(metrics), 'nodejs_eventloop_utilization');
  assert.ok(busy >= 0 && busy <= 1, `busy ${busy}`);
  assert.ok(busy > idle, `busy ${busy} > idle ${idle}`);
  // The window is 400 ms of samples, and no sample is taken while the loop is blocked: 300 busy
  // ms out of about 650 ms.
  assert.ok(busy > 0.3, `busy ${busy}`);
});

test('the ELU gauge can be turned off alone', async (t) => {
  const metrics = createMetrics({ runtime: { eventLoopUtilization: false } });
  t.after(() => metrics.close());
  const samples = await scrapeSamples(metrics);
  assert.equal(find(samples, 'nodejs_eventloop_utilization').length, 0);
  assert.equal(find(samples, 'process_cpu_seconds_total').length, 1);
});
