import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopStallWatch } from '../../src/load/loop-stall-watch.ts';
import { busyWait } from '../support/busy-wait.ts';

/** A watch driven by hand: tick every 10 ms, 3 ms of tolerance, so overdue means > 13 ms since the last tick. */
function manualWatch(): LoopStallWatch {
  return new LoopStallWatch({ tickMs: 10, toleranceMs: 3, clock: () => 0, timer: false });
}

test('nobody using the watch: never stalled, however late the tick', () => {
  const watch = manualWatch();
  assert.equal(watch.stalled(1_000), false);
  watch.acquire();
  watch.release();
  assert.equal(watch.stalled(1_000), false);
});

test('stalled while the tick is more than the tolerance overdue, not before', () => {
  const watch = manualWatch();
  watch.acquire(); // last tick at 0 (the injected clock)
  watch.tick(10);
  watch.tick(20);
  assert.equal(watch.stalled(25), false);
  assert.equal(watch.stalled(33), false, '13 ms after the last tick is within the tolerance');
  assert.equal(watch.stalled(33.5), true);
});

test('after a late tick the loop is catching up for as long as the tick was late', () => {
  const watch = manualWatch();
  watch.acquire();
  watch.tick(10);
  watch.tick(60); // due at 20: 40 ms late
  assert.equal(watch.stalled(61), true);
  for (const at of [70, 80, 90]) watch.tick(at); // on time again
  assert.equal(watch.stalled(99), true, 'still catching up');
  watch.tick(100.5); // 0.5 ms late: within the tolerance
  assert.equal(watch.stalled(101), false, 'caught up 40 ms after the late tick');
});

test('a short late tick still gives the loop one tick interval to catch up', () => {
  const watch = manualWatch();
  watch.acquire();
  watch.tick(10);
  watch.tick(25); // 5 ms late
  assert.equal(watch.stalled(34), true);
  assert.equal(watch.stalled(35.5), false);
});

test('users are counted: the watch runs until the last one releases; extra releases are ignored', () => {
  const watch = manualWatch();
  watch.acquire();
  watch.acquire();
  watch.release();
  assert.equal(watch.stalled(50), true, 'one user left');
  watch.release();
  watch.release();
  assert.equal(watch.stalled(50), false);
  watch.acquire(); // the clock reads 0 again: no stall carried over from before
  assert.equal(watch.stalled(5), false);
});

test('with its real timer: a 60 ms synchronous block is a stall; the loop is caught up 100 ms later', async () => {
  const watch = new LoopStallWatch();
  watch.acquire();
  try {
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(watch.stalled(performance.now()), false, 'an idle loop ticks on time');
    busyWait(60);
    assert.equal(watch.stalled(performance.now()), true, 'read right after the block');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(watch.stalled(performance.now()), false);
  } finally {
    watch.release();
  }
});

test('the shared watch is one instance per process', () => {
  assert.equal(LoopStallWatch.shared(), LoopStallWatch.shared());
});
