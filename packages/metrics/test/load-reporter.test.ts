import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_LOAD_REPORT_INTERVAL,
  DEFAULT_LOAD_REPORT_WINDOW,
  ErrorCodes,
  LOAD_REPORT_HEADER,
  LoadReporter,
  type MetricsOptions,
  parseLoadReport,
  ReadykitError,
} from '../src/index.ts';
import { resolveMetricsOptions } from '../src/options.ts';
import { send, serveMetrics } from './support.ts';

/** A fake event loop: each step adds 100 ms of loop time, `busy` ms of it active. */
function fakeLoop() {
  const loop = { idle: 0, active: 0, samples: 0 };
  return {
    loop,
    advance(busy: number) {
      loop.active += busy;
      loop.idle += 100 - busy;
    },
    sample: () => {
      loop.samples++;
      return { idle: loop.idle, active: loop.active };
    },
  };
}

test('utilization follows the loop over the trailing window, from injected samples', () => {
  const fake = fakeLoop();
  const reporter = new LoadReporter({ window: 300, interval: 100, sample: fake.sample });
  assert.equal(reporter.utilization, 0);
  assert.equal(reporter.headerValue(3), 'TEXT application_utilization=0, named_metrics.in_flight=3');

  for (let i = 0; i < 3; i++) {
    fake.advance(100); // spinning synchronously through the whole window
    reporter.refresh();
  }
  assert.equal(reporter.utilization, 1);
  assert.equal(reporter.headerValue(12), 'TEXT application_utilization=1, named_metrics.in_flight=12');

  for (let i = 0; i < 3; i++) {
    fake.advance(0); // idle: the busy steps slide out of the window
    reporter.refresh();
  }
  assert.equal(reporter.utilization, 0);

  for (let i = 0; i < 3; i++) {
    fake.advance(73.4);
    reporter.refresh();
  }
  assert.equal(reporter.utilization, 0.734);
  assert.equal(reporter.headerValue(0), 'TEXT application_utilization=0.734, named_metrics.in_flight=0');
  assert.deepEqual(parseLoadReport(reporter.headerValue(5)), { utilization: 0.734, inFlight: 5 });
});

test('the header value is cached between refreshes: only refresh() samples the loop', () => {
  const fake = fakeLoop();
  const reporter = new LoadReporter({ window: 300, interval: 100, sample: fake.sample });
  const before = fake.loop.samples;
  for (let i = 0; i < 1000; i++) reporter.headerValue(i);
  assert.equal(fake.loop.samples, before);
  // The same string object while the rounded utilization does not change.
  fake.advance(50);
  reporter.refresh();
  const first = reporter.headerValue(1);
  fake.advance(50);
  reporter.refresh();
  assert.equal(reporter.headerValue(1), first);
});

test('a real loop: near 1 after spinning synchronously across the window, near 0 when idle', async (t) => {
  const reporter = new LoadReporter({ window: 200, interval: 50 });
  t.after(() => reporter.close());
  reporter.start();
  await sleep(300);
  assert.ok(reporter.utilization < 0.5, `idle ${reporter.utilization}`);
  const until = performance.now() + 600;
  while (performance.now() < until) {
    // busy: the loop gets no turn for 600 ms, three windows
  }
  // The sampling timer runs first in the next loop turn.
  await sleep(1);
  assert.ok(reporter.utilization > 0.7, `busy ${reporter.utilization}`);
});

test('close() stops sampling', async () => {
  const fake = fakeLoop();
  const reporter = new LoadReporter({ window: 100, interval: 10, sample: fake.sample });
  reporter.start();
  reporter.start(); // idempotent
  await sleep(60);
  assert.ok(fake.loop.samples > 2, `${fake.loop.samples} samples`);
  reporter.close();
  reporter.close();
  assert.equal(reporter.closed, true);
  const samples = fake.loop.samples;
  await sleep(60);
  assert.equal(fake.loop.samples, samples);
  reporter.start(); // no restart once closed
  await sleep(30);
  assert.equal(fake.loop.samples, samples);
});

test('a started reporter does not keep the process alive', () => {
  const source = new URL('../src/load-reporter.ts', import.meta.url).href;
  const script = `import { LoadReporter } from ${JSON.stringify(source)};
new LoadReporter({ window: 1000, interval: 10 }).start();
console.log('started');`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(run.error, undefined);
  assert.equal(run.stdout.trim(), 'started', run.stderr);
  assert.equal(run.status, 0, run.stderr);
});

test('loadReport option: off by default, true for the defaults, validated naming the option', () => {
  assert.equal(resolveMetricsOptions().loadReport, false);
  assert.equal(resolveMetricsOptions({ loadReport: false }).loadReport, false);
  assert.deepEqual(resolveMetricsOptions({ loadReport: true }).loadReport, {
    window: DEFAULT_LOAD_REPORT_WINDOW,
    interval: DEFAULT_LOAD_REPORT_INTERVAL,
  });
  assert.equal(DEFAULT_LOAD_REPORT_WINDOW, 1000);
  assert.equal(DEFAULT_LOAD_REPORT_INTERVAL, 100);
  assert.deepEqual(resolveMetricsOptions({ loadReport: { window: 50 } }).loadReport, {
    window: 50,
    interval: 50,
  });
  const invalid: Array<[unknown, RegExp]> = [
    ['yes', /^loadReport must be a boolean or an object \{ window, interval \}/],
    [null, /^loadReport must be a boolean or an object/],
    [{ window: 0 }, /^loadReport\.window must be a positive number of milliseconds, got 0$/],
    [{ interval: -1 }, /^loadReport\.interval must be a positive number of milliseconds/],
    [{ window: 500, interval: 1000 }, /^loadReport\.interval must be <= window \(500\), got 1000$/],
    [{ windw: 500 }, /unknown option "loadReport\.windw" \(did you mean "window"\?\)/],
  ];
  for (const [loadReport, message] of invalid) {
    assert.throws(
      () => resolveMetricsOptions({ loadReport } as MetricsOptions),
      (error: unknown) => {
        assert.ok(error instanceof ReadykitError);
        assert.equal(error.code, ErrorCodes.INVALID_OPTION);
        assert.match(error.message, message);
        return true;
      },
      String(loadReport),
    );
  }
});

test('metrics.track() adds the header through a real node:http server when on', async (t) => {
  const server = await serveMetrics({ loadReport: true });
  t.after(() => server.close());
  const answer = await send(`${server.url}/work`);
  assert.equal(answer.status, 200);
  const header = answer.headers[LOAD_REPORT_HEADER];
  assert.equal(typeof header, 'string');
  assert.match(
    header as string,
    /^TEXT application_utilization=(0|1|0\.\d{1,3}), named_metrics\.in_flight=1$/,
  );
  const report = parseLoadReport(header as string);
  assert.equal(report?.inFlight, 1);
  assert.ok(report.utilization !== undefined && report.utilization >= 0 && report.utilization <= 1);
  // Scrapes are not tracked, so they carry no report.
  const scrape = await send(`${server.url}/metrics`);
  assert.equal(scrape.headers[LOAD_REPORT_HEADER], undefined);
});

test('in-flight counts every method, the answered request included', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived = 0;
  const server = await serveMetrics({ loadReport: true }, (req, res) => {
    arrived++;
    if (req.url === '/hold') void released.then(() => res.end('held'));
    else res.end('ok');
  });
  t.after(() => server.close());
  const held = send(`${server.url}/hold`, { method: 'POST' });
  while (arrived < 1) await sleep(5);
  assert.equal(server.metrics.inFlight, 1);
  const answer = await send(`${server.url}/now`);
  release();
  assert.equal(parseLoadReport(answer.headers[LOAD_REPORT_HEADER] as string)?.inFlight, 2);
  assert.equal(parseLoadReport((await held).headers[LOAD_REPORT_HEADER] as string)?.inFlight, 1);
  while (server.metrics.inFlight > 0) await sleep(5);
  assert.equal(server.metrics.inFlight, 0);
});

test('no header by default, nor after close()', async (t) => {
  const off = await serveMetrics();
  t.after(() => off.close());
  const answer = await send(`${off.url}/work`);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers[LOAD_REPORT_HEADER], undefined);

  const on = await serveMetrics({ loadReport: true });
  t.after(() => on.close());
  assert.notEqual((await send(`${on.url}/a`)).headers[LOAD_REPORT_HEADER], undefined);
  await on.metrics.close();
  const after = await send(`${on.url}/b`);
  assert.equal(after.status, 200, 'tracking keeps working after close()');
  assert.equal(after.headers[LOAD_REPORT_HEADER], undefined);
});
