import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { BalancerFixture, backendOf, type StartedBalancer } from './support/balancer-fixture.ts';
import { until } from './support/test-backend.ts';

const fx = new BalancerFixture();
afterEach(() => fx.close());

const WINDOW = 2000;

/** Share of `b` among requests sent from `from` to `to` ms after `start`. */
async function shareOfB(started: StartedBalancer, start: number, from: number, to: number) {
  while (performance.now() - start < from) await new Promise((resolve) => setTimeout(resolve, 10));
  let b = 0;
  let total = 0;
  while (performance.now() - start < to) {
    // A few at a time, for more samples on a slow machine; round robin picks one by one anyway.
    const answers = await Promise.all(Array.from({ length: 4 }, () => fx.request(`${started.proxy}/s`)));
    for (const res of answers) {
      assert.equal(res.status, 200);
      if (res.body === 'b') b++;
      total++;
    }
  }
  assert.ok(
    total >= 20,
    `only ${total} requests from ${from} to ${to} ms: too busy a machine to measure shares`,
  );
  return { share: b / total, total };
}

async function reportOf(started: StartedBalancer, url: string) {
  return (await fx.report(started)).backends.find((x) => x.url === url)!;
}

describe('slow start through the proxy', () => {
  it('ramps a backend that just became ready from a small share to an equal one', async (t) => {
    const [a, b] = await fx.backends('a', 'b');
    b!.readyStatus = 503; // still starting
    const started = await fx.start([a!, b!], { algorithm: 'round-robin', slowStart: { window: WINDOW } }, 1);
    // a ramps up too from its first check: wait for it to reach its full weight.
    await until(
      () => !backendOf(started, a!).inSlowStart(performance.now()),
      WINDOW + 1000,
      'a at full weight',
    );

    b!.readyStatus = 200;
    const backendB = backendOf(started, b!);
    await until(() => backendB.state === 'ready', 2000, 'b ready');
    const readyAt = backendB.readiness.becameReadyAt!;

    const early = await reportOf(started, b!.url);
    assert.equal(early.slowStart, true);
    assert.ok(early.effectiveWeight >= 0.1 && early.effectiveWeight < 0.3, `weight ${early.effectiveWeight}`);
    assert.equal((await reportOf(started, a!.url)).effectiveWeight, 1);

    // Linear from 10 % over 2 s: weights 0.1-0.25 (about 15 % of requests), then 0.5-0.65.
    const first = await shareOfB(started, readyAt, 0, 500);
    const middle = await shareOfB(started, readyAt, 1000, 1300);
    const after = await shareOfB(started, readyAt, WINDOW + 50, WINDOW + 450);
    t.diagnostic(
      `b's share: ${pct(first.share)} of ${first.total} in 0-500 ms, ${pct(middle.share)} in 1000-1300 ms, ${pct(after.share)} after the window`,
    );
    assert.ok(first.share > 0.05 && first.share < 0.3, `first 500 ms: ${pct(first.share)}`);
    assert.ok(middle.share > first.share && middle.share < 0.45, `1000-1300 ms: ${pct(middle.share)}`);
    assert.ok(Math.abs(after.share - 0.5) < 0.03, `after the window: ${pct(after.share)}`);

    const late = await reportOf(started, b!.url);
    assert.equal(late.slowStart, false);
    assert.equal(late.effectiveWeight, 1);
  });
});

function pct(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
