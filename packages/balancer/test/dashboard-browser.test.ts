import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { requireCommand } from '../../../test/support/components.ts';
import { BalancerFixture, backendOf, type StartedBalancer } from './support/balancer-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token';
const ARTIFACTS = fileURLToPath(new URL('../../../.test-results/', import.meta.url));
const README_IMAGE = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));

/** Problems the page reports: console errors, uncaught exceptions, CSP violations. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

// Runs before the page's own script; CSP violations also reach the console, this names them.
const CSP_LISTENER = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`;

/**
 * Evaluates `expression` in the page until it is truthy. Polled from here: Playwright's own
 * waitForFunction evaluates strings with eval() inside the page, which the page's CSP forbids.
 */
async function waitFor(page: Page, expression: string, timeout = 5000): Promise<void> {
  const started = performance.now();
  while (!(await page.evaluate(expression))) {
    if (performance.now() - started > timeout) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Traffic shaped to draw something: 1 to 7 clients in a slow wave, one backend slower with
 * rare 25 ms spikes (p99), another with a rare 500 (success rate).
 */
function startTraffic(fx: BalancerFixture, started: StartedBalancer): () => Promise<void> {
  let running = true;
  const t0 = performance.now();
  const worker = async (index: number) => {
    while (running) {
      const active = 4 + Math.round(3 * Math.sin(((performance.now() - t0) / 6000) * 2 * Math.PI));
      if (index >= active) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      await fx.request(`${started.proxy}/items`).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
  };
  const workers = Array.from({ length: 7 }, (_, i) => worker(i));
  return async () => {
    running = false;
    await Promise.all(workers);
  };
}

test('the dashboard in Chromium: three backends appear, one is drained from its button', async (t) => {
  if (!requireCommand(t, 'chromium', 'chromium')) return;
  const fx = new BalancerFixture();
  let browser: Browser | undefined;
  let stopTraffic: (() => Promise<void>) | undefined;
  t.after(async () => {
    await stopTraffic?.();
    await browser?.close();
    await fx.close();
  });

  const backends = await fx.backends('a', 'b', 'c');
  const [, slow, flaky] = backends;
  slow!.handler = (_req, res) =>
    setTimeout(() => res.end('b'), Math.random() < 0.03 ? 25 : 3 + Math.random() * 4);
  let served = 0;
  flaky!.handler = (_req, res) => {
    res.statusCode = ++served % 150 === 0 ? 500 : 200;
    setTimeout(() => res.end('c'), 1 + Math.random());
  };
  const started = await fx.start(backends, { adminToken: TOKEN });
  const drainedName = new URL(slow!.url).host;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  await context.addInitScript(CSP_LISTENER);
  const page = await context.newPage();
  const problems = watch(page);

  // The token comes in the fragment, which the browser never sends; the page drops it from the address.
  await page.goto(`${started.admin}/#token=${TOKEN}`);
  await waitFor(page, `document.querySelectorAll('.row[data-state="ready"]').length === 3`);
  assert.equal(new URL(page.url()).hash, '', 'the token is gone from the address bar');
  assert.equal(await page.textContent('#conn-text'), 'live');
  assert.equal(await page.textContent('#algorithm'), 'p2c-ewma');
  assert.equal(await page.textContent('#discovery'), 'static (3 backends)');
  assert.deepEqual(
    (await page.locator('.row .name').allTextContents()).sort(),
    backends.map((b) => new URL(b.url).host).sort(),
  );

  stopTraffic = startTraffic(fx, started);
  // Figures and sparklines fill in: every backend serves, the totals chart has a line.
  await waitFor(
    page,
    `[...document.querySelectorAll('.c-rps .num')].every((n) => n.textContent !== '0')`,
    8000,
  );
  await waitFor(
    page,
    `document.querySelector('#chart-rps .line').getAttribute('d').split('L').length > 3`,
    8000,
  );
  await new Promise((resolve) => setTimeout(resolve, 5000));

  const row = page.locator(`.row[data-backend="${drainedName}"]`);
  assert.equal(await row.locator('button').textContent(), 'Drain');
  await row.locator('button').click();
  await page.mouse.move(0, 0); // no hover style in the screenshot
  await waitFor(
    page,
    `document.querySelector('.row[data-backend="${drainedName}"] .badge').textContent === 'draining'`,
  );
  assert.equal(await row.locator('button').textContent(), 'Undrain');
  assert.equal(backendOf(started, slow!).drainedBy, 'operator', 'the balancer drained it');
  await waitFor(page, `document.querySelectorAll('.row[data-state="ready"]').length === 2`);
  // A few more seconds: the drained backend's throughput line falls to zero, the toast fades.
  await new Promise((resolve) => setTimeout(resolve, 4000));

  mkdirSync(ARTIFACTS, { recursive: true });
  const content = page.locator('.wrap');
  const shot = await content.screenshot({ path: `${ARTIFACTS}dashboard.png` });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(dirname(README_IMAGE), { recursive: true });
    await content.screenshot({ path: README_IMAGE });
  }
  assert.ok(shot.length > 10_000, 'a screenshot with something in it');
  await page.emulateMedia({ colorScheme: 'dark' });
  await content.screenshot({ path: `${ARTIFACTS}dashboard-dark.png` });

  // A phone: cards stack, nothing is wider than the screen.
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await phone.addInitScript(CSP_LISTENER);
  const small = await phone.newPage();
  const phoneProblems = watch(small);
  await small.goto(`${started.admin}/#token=${TOKEN}`);
  await waitFor(small, `document.querySelectorAll('.row').length === 3`);
  await waitFor(small, `document.querySelector('#chart-rps .line').getAttribute('d') !== ''`);
  assert.ok(
    ((await small.evaluate('document.documentElement.scrollWidth')) as number) <= 390,
    'no horizontal scrolling at 390 px',
  );
  const cards = (await small.evaluate(
    `[...document.querySelectorAll('.row')].map((r) => { const b = r.getBoundingClientRect(); return [b.left, b.right]; })`,
  )) as Array<[number, number]>;
  assert.ok(
    cards.every(([left, right]) => left >= 0 && right <= 390),
    `cards fit the screen: ${JSON.stringify(cards)}`,
  );
  await small.screenshot({ path: `${ARTIFACTS}dashboard-phone.png`, fullPage: true });

  assert.deepEqual(problems, [], 'no console errors or CSP violations on the page');
  assert.deepEqual(phoneProblems, [], 'no console errors or CSP violations on the phone');
});
