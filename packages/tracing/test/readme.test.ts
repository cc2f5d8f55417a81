import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readmeSection } from '../../../test/support/readme-section.ts';
import { TracingErrorCodes } from '../src/index.ts';
import { DEADLINE_KEYS, OPTION_KEYS } from '../src/tracing-options.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function section(title: string): string {
  return readmeSection(readme, title);
}

test('the README options table lists every option, and nothing else', () => {
  const documented = [...section('Options').matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]);
  const expected = [
    ...OPTION_KEYS.filter((k) => k !== 'deadline'),
    ...DEADLINE_KEYS.map((k) => `deadline.${k}`),
  ];
  assert.deepEqual([...documented].sort(), [...expected].sort());
});

test('the README errors table lists every error code', () => {
  const errors = section('Errors');
  for (const code of [...Object.values(TracingErrorCodes), 'RK_ERR_INVALID_OPTION']) {
    assert.ok(errors.includes(`\`${code}\``), `${code} documented`);
  }
});

test('every header readykit reads or writes by default is in the headers table', () => {
  const table = section('Headers read and written');
  for (const header of [
    'traceparent',
    'tracestate',
    'baggage',
    'b3',
    'x-b3-traceid',
    'x-request-id',
    'x-readykit-timeout-ms',
    'grpc-timeout',
    'x-envoy-expected-rq-timeout-ms',
  ]) {
    assert.ok(table.includes(`\`${header}\``), `${header} documented`);
  }
});
