import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool } from 'undici';
import { EXAMPLE_SERVICE, type ServiceProcess, startService } from '../support/service-process.ts';
import { countBy, driveStockCalls, type StockCall, show } from '../support/stock-calls.ts';

// Two callers, three services: two example services call the inventory (three more instances)
// through the balanced dispatcher (INVENTORY_BACKENDS). This process reaches each caller over
// one keep-alive connection, so any spread over the inventory is the dispatcher's, call by call.
const ORIGIN = 'http://inventory.default.svc';
const CHECK_MS = 200;
// Readiness checks are jittered by 10 %; the rest is for a 2-core machine running five services.
const DRAIN_BOUND_MS = CHECK_MS * 1.1 + 500;

interface Fleet {
  readonly inventories: ServiceProcess[];
  readonly callers: ServiceProcess[];
  start(env: Record<string, string>): Promise<ServiceProcess>;
}

async function startFleet(t: TestContext, inventoryEnv: Record<string, string>): Promise<Fleet> {
  const started: ServiceProcess[] = [];
  t.after(() => {
    for (const s of started) s.kill('SIGKILL');
  });
  const start = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const s = await startService({ WARMUP_MS: '0', SHUTDOWN_DELAY_MS: '0', ...env });
    started.push(s);
    return s;
  };
  const inventories = await Promise.all(
    [0, 1, 2].map((i) => start({ ...inventoryEnv, INSTANCE_NAME: `inventory-${i}` })),
  );
  const callerEnv = {
    INVENTORY_URL: ORIGIN,
    INVENTORY_BACKENDS: inventories.map((s) => s.url).join(','),
    INVENTORY_CHECK_INTERVAL_MS: String(CHECK_MS),
  };
  const callers = await Promise.all([start(callerEnv), start(callerEnv)]);
  for (const caller of callers) {
    for (const inventory of inventories) await waitForBackend(caller, inventory.url, 'ready', 0);
  }
  return { inventories, callers, start };
}

/** Waits for the caller's log line of a backend state change at or after line `from`. */
async function waitForBackend(caller: ServiceProcess, url: string, state: string, from: number) {
  const text = `${new URL(ORIGIN).host}: backend ${url} ${state}`;
  const deadline = performance.now() + 10_000;
  for (;;) {
    const at = caller.output.findIndex((line, i) => i >= from && line.endsWith(text));
    if (at >= 0) return at;
    if (performance.now() > deadline)
      throw new Error(`no "${text}" in:\n${caller.output.slice(from).join('\n')}`);
    await sleep(20);
  }
}

function assertNoFailures(calls: readonly StockCall[]): void {
  const failed = calls.filter((c) => c.status !== 200);
  assert.deepEqual(
    failed.slice(0, 5).map((c) => `${c.status} ${c.instance}`),
    [],
    `${failed.length} of ${calls.length} calls failed`,
  );
}

test('each caller balances the calls of one connection per call over the services; metrics and trace follow', async (t) => {
  const { inventories, callers } = await startFleet(t, {});
  const connects = [0, 0];
  const clients = callers.map((c, i) =>
    new Client(c.url, { pipelining: 1 }).on('connect', () => connects[i]!++),
  );
  t.after(() => Promise.all(clients.map((c) => c.destroy())));
  const CALLS = 300;
  const calls: StockCall[] = [];
  await driveStockCalls(clients, 1, (sent) => sent >= CALLS, calls);

  console.log(`spread: ${callers.map((_, i) => `caller ${i}: ${show(countBy(calls, i))}`).join('; ')}`);
  assertNoFailures(calls);
  assert.deepEqual(connects, [1, 1], 'one connection into each caller');
  for (const i of [0, 1]) {
    const counts = countBy(calls, i);
    assert.equal(
      counts.size,
      3,
      `caller ${i}: calls of one connection reach every service (${show(counts)})`,
    );
    const scrape = await (await fetch(`${callers[i]!.url}/metrics`)).text();
    for (const [k, inventory] of inventories.entries()) {
      const line = scrape
        .split('\n')
        .find(
          (l) =>
            l.startsWith('readykit_balancer_requests_total{') &&
            l.includes(`upstream="${new URL(ORIGIN).host}"`) &&
            l.includes(`backend="${inventory.url}"`) &&
            l.includes('code_class="2xx"'),
        );
      const answered = counts.get(`inventory-${k}`) ?? 0;
      assert.ok(line, `caller ${i} /metrics has 2xx requests of ${inventory.url}`);
      assert.equal(Number(line?.split(' ').at(-1) ?? 0), answered, `caller ${i}: ${line}`);
    }
  }
  // One call at a time, p2c sends each to the service it finds fastest now: uneven shares,
  // but no service left out (a cold first response used to freeze one out for ~30 s).

  // The trace goes through the dispatcher: the inventory continues the caller's trace.
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const PARENT = '00f067aa0ba902b7';
  const response = await fetch(`${callers[1]!.url}/api/items/9/stock`, {
    headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'callers-1' },
  });
  const body = (await response.json()) as {
    trace: { traceId: string; spanId: string };
    inventory: { instance: string; trace: { traceId: string; parentSpanId: string; requestId: string } };
  };
  assert.equal(response.status, 200);
  assert.equal(body.trace.traceId, TRACE);
  assert.equal(body.inventory.trace.traceId, TRACE, 'the inventory saw the same trace');
  assert.equal(body.inventory.trace.requestId, 'callers-1');
  assert.match(body.inventory.trace.parentSpanId, /^[0-9a-f]{16}$/);
  assert.notEqual(body.inventory.trace.parentSpanId, PARENT, "parented on the caller's outgoing span");
  assert.notEqual(body.inventory.trace.parentSpanId, body.trace.spanId);
});

test('a draining service gets no new calls from either caller within one check interval; none fail', async (t) => {
  const DELAY_MS = 2000;
  const { inventories, callers } = await startFleet(t, { SHUTDOWN_DELAY_MS: String(DELAY_MS) });
  const clients = callers.map((c) => new Client(c.url, { pipelining: 1 }));
  t.after(() => Promise.all(clients.map((c) => c.destroy())));
  const calls: StockCall[] = [];
  let stopping = false;
  const load = driveStockCalls(clients, 1, () => stopping, calls);
  await sleep(500);
  // The service both callers use most (see STARVED: not every caller uses every service).
  const used = (k: number) => Math.min(...[0, 1].map((i) => countBy(calls, i).get(`inventory-${k}`) ?? 0));
  const v = [0, 1, 2].reduce((best, k) => (used(k) > used(best) ? k : best));
  const name = `inventory-${v}`;
  const victim = inventories[v]!;
  const marks = callers.map((c) => c.output.length);
  const signalledAt = performance.now();
  const signalledWall = Date.now();
  victim.kill('SIGTERM');

  await sleep(DRAIN_BOUND_MS + 200);
  // Still serving through its delay, only its readiness says no: the callers chose to leave it.
  assert.equal((await fetch(`${victim.url}/readyz`)).status, 503);
  assert.equal((await fetch(`${victim.url}/api/items/1`)).status, 200);
  const { code, at } = await victim.exited;
  const exitedMs = at - signalledWall;
  await sleep(300);
  stopping = true;
  await load;

  const before = calls.filter((c) => c.startedAt < signalledAt);
  const after = calls.filter((c) => c.startedAt >= signalledAt);
  const late = after.filter((c) => c.instance === name && c.startedAt - signalledAt > DRAIN_BOUND_MS);
  const lastMs = Math.max(
    0,
    ...after.filter((c) => c.instance === name).map((c) => c.startedAt - signalledAt),
  );
  console.log(
    `drain: before SIGTERM ${show(countBy(before))}; after ${show(countBy(after))}; last call to ${name} +${lastMs.toFixed(0)} ms, exit +${exitedMs.toFixed(0)} ms`,
  );
  assert.equal(code, 0);
  assertNoFailures(calls);
  for (const i of [0, 1]) {
    assert.ok(
      before.some((c) => c.caller === i && c.instance === name),
      `caller ${i} called ${name} before`,
    );
    await waitForBackend(callers[i]!, victim.url, 'draining', marks[i]!);
  }
  assert.equal(
    late.length,
    0,
    `calls reached ${name} up to +${lastMs.toFixed(0)} ms (bound ${DRAIN_BOUND_MS} ms)`,
  );
  assert.ok(
    after.filter((c) => c.startedAt - signalledAt > DRAIN_BOUND_MS).length > 50,
    'calls went on after the drain',
  );
});

test('rolling restart of the three services under load from both callers: no call fails', async (t) => {
  const ENV = { WARMUP_MS: '300', SHUTDOWN_DELAY_MS: '600' };
  const fleet = await startFleet(t, ENV);
  const { inventories, callers } = fleet;
  const clients = callers.map((c) => new Pool(c.url, { connections: 2, pipelining: 1 }));
  t.after(() => Promise.all(clients.map((c) => c.destroy())));
  const calls: StockCall[] = [];
  let stopping = false;
  const load = driveStockCalls(clients, 2, () => stopping, calls);
  await sleep(500);

  const phases: string[] = [];
  let phaseStart = 0;
  for (let i = 0; i < inventories.length; i++) {
    const old = inventories[i]!;
    const marks = callers.map((c) => c.output.length);
    old.kill('SIGTERM');
    assert.equal((await old.exited).code, 0, `inventory-${i} exit code`);
    const replacement = await fleet.start({
      ...ENV,
      PORT: new URL(old.url).port,
      INSTANCE_NAME: `inventory-${i}-new`,
    });
    assert.equal(replacement.url, old.url, 'the replacement listens on the same address');
    inventories[i] = replacement;
    for (const [k, caller] of callers.entries()) {
      const drained = await waitForBackend(caller, old.url, 'draining', marks[k]!);
      await waitForBackend(caller, old.url, 'ready', drained);
    }
    const phaseEnd = calls.length;
    phases.push(`restart ${i}: ${show(countBy(calls.slice(phaseStart, phaseEnd)))}`);
    phaseStart = phaseEnd;
  }
  await sleep(800);
  stopping = true;
  await load;
  phases.push(`after: ${show(countBy(calls.slice(phaseStart)))}`);
  console.log(`rolling restart: ${calls.length} calls\n  ${phases.join('\n  ')}`);

  assertNoFailures(calls);
  assert.ok(calls.length > 500, `${calls.length} calls`);
  const last = calls.slice(phaseStart);
  assert.ok(last.length > 0, 'calls went on after the last restart');
  assert.ok(
    last.every((c) => c.instance.endsWith('-new')),
    `only replacements answer at the end: ${show(countBy(last))}`,
  );
});

test('a bad INVENTORY_BACKENDS exits 2 naming the variable', () => {
  const many = Array.from({ length: 101 }, (_, i) => `http://10.0.0.${i % 250}:3000`).join(',');
  for (const [backends, message] of [
    [
      'http://127.0.0.1:1,ftp://127.0.0.1:2',
      'must be comma-separated http(s) origins (no path), got "ftp://127.0.0.1:2"',
    ],
    [
      'http://127.0.0.1:1/api',
      'must be comma-separated http(s) origins (no path), got "http://127.0.0.1:1/api"',
    ],
    [many, 'must list at most 100 URLs, got 101'],
  ]) {
    const run = spawnSync(process.execPath, [EXAMPLE_SERVICE], {
      env: { ...process.env, PORT: '0', INVENTORY_URL: ORIGIN, INVENTORY_BACKENDS: backends },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr, `example service: INVENTORY_BACKENDS ${message}\n`);
  }
});
