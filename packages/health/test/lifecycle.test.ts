import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../src/errors.ts';
import { Lifecycle, type StateChange } from '../src/lifecycle.ts';

test('walks the states in order and tells subscribers', () => {
  const lifecycle = new Lifecycle();
  const seen: StateChange[] = [];
  const off = lifecycle.subscribe((c) => seen.push(c));
  for (const to of ['warming', 'ready', 'draining', 'stopped'] as const)
    assert.equal(lifecycle.transition(to), true);
  assert.deepEqual(
    seen.map((c) => `${c.from}>${c.to}`),
    ['starting>warming', 'warming>ready', 'ready>draining', 'draining>stopped'],
  );
  off();
  assert.equal(lifecycle.isShuttingDown, true);
});

test('forbids going back, allows draining from any earlier state', () => {
  for (const path of [[], ['warming'], ['warming', 'ready']] as const) {
    const lifecycle = new Lifecycle();
    for (const s of path) lifecycle.transition(s);
    assert.equal(lifecycle.transition('draining'), true);
  }
  const lifecycle = new Lifecycle();
  lifecycle.transition('warming');
  assert.equal(lifecycle.transition('warming'), false);
  assert.throws(() => lifecycle.transition('starting'), { code: ErrorCodes.LIFECYCLE });
  assert.throws(() => lifecycle.transition('stopped'), { code: ErrorCodes.LIFECYCLE });
});

test('a throwing listener does not stop the transition or other listeners', async () => {
  const lifecycle = new Lifecycle();
  let second = 0;
  lifecycle.subscribe(() => {
    throw new Error('boom');
  });
  lifecycle.subscribe(() => second++);
  const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
  lifecycle.transition('warming');
  assert.equal(lifecycle.state, 'warming');
  assert.equal(second, 1);
  assert.match((await warning).message, /listener threw: Error: boom/);
});
