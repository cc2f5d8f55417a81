import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopMonitor } from '../src/event-loop-monitor.ts';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

test('a stall past the threshold fails the check for the window, then passes again', async () => {
  const monitor = new EventLoopMonitor({ threshold: 150, window: 300, sampleInterval: 20 });
  monitor.start();
  try {
    await sleep(50);
    assert.doesNotThrow(monitor.check);
    block(250);
    await sleep(0);
    assert.throws(monitor.check, /event loop blocked for (2\d\d|3\d\d) ms/);
    await sleep(400);
    assert.doesNotThrow(monitor.check);
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
    assert.doesNotThrow(monitor.check);
  } finally {
    monitor.stop();
  }
});
