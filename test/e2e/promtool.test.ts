import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireCommand } from '../support/components.ts';
import { startService } from '../support/service-process.ts';

test("promtool check metrics passes on the example service's /metrics after traffic", async (t) => {
  if (!requireCommand(t, 'promtool', 'prometheus')) return;
  const svc = await startService({ WARMUP_MS: '50' });
  try {
    while ((await fetch(`${svc.url}/readyz`)).status !== 200) await sleep(20);
    for (let i = 0; i < 20; i++) await (await fetch(`${svc.url}/api/items/${i}`)).text();
    await (await fetch(`${svc.url}/api/users/7/orders`)).text();
    await (await fetch(`${svc.url}/missing`)).text();
    // Well-formed JSON the route refuses (400 from the route itself, so the route label is known).
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items":[]}' };
    await (await fetch(`${svc.url}/api/orders`, post)).text();
    const text = await fetch(`${svc.url}/metrics`);
    assert.equal(text.status, 200);
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await text.text();
    assert.match(body, /^http_request_duration_seconds_bucket\{.*route="\/api\/items\/:id".*\} \d+/m);
    assert.match(body, /^http_requests_total\{method="POST",route="\/api\/orders",status_code="400"\} 1/m);
    // promtool lints the Prometheus text format (it does not parse OpenMetrics).
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool said:\n${check.stdout}${check.stderr}`);

    const open = await fetch(`${svc.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    assert.match(open.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    const openBody = await open.text();
    assert.ok(openBody.endsWith('# EOF\n'), 'OpenMetrics ends with # EOF');
    assert.match(openBody, /^# TYPE http_requests counter$/m);
  } finally {
    svc.kill('SIGKILL');
  }
});
