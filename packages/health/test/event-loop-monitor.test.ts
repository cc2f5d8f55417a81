import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopMonitor } from '../src/event-loop-monitor.ts';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

test('a stall past the threshold is reported for the window, then forgotten', async () => {
  const monitor = new EventLoopMonitor({ threshold: 150, window: 300, sampleInterval: 20 });
  monitor.start();
  try {
    await sleep(50);
    assert.equal(monitor.blockedMs(), 0);
    block(250);
    await sleep(0);
    const blocked = monitor.blockedMs();
    assert.ok(blocked >= 200 && blocked < 400, `blocked ${blocked} ms`);
    await sleep(400);
    assert.equal(monitor.blockedMs(), 0);
  } finally {
    monitor.stop();
  }
});

test('a stall below the threshold is not a failure', async () => {
  const monitor = new EventLoopMonitor({ threshold: 300, window: 1000, sampleInterval: 20 });
  monitor.start();
  try {
    block(100);
    await sleep(30);
    assert.equal(monitor.blockedMs(), 0);
  } finally {
    monitor.stop();
  }
});
