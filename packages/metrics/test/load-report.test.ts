import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../../test/support/seeded-random.ts';
import { formatLoadReport, LOAD_REPORT_HEADER, type LoadReport, parseLoadReport } from '../src/index.ts';

test('the header is ORCA in-band endpoint-load-metrics', () => {
  assert.equal(LOAD_REPORT_HEADER, 'endpoint-load-metrics');
});

test('formatLoadReport writes the TEXT form, 3 decimals, clamped, fields left out when undefined', () => {
  const cases: Array<[LoadReport, string]> = [
    [{ utilization: 0.734, inFlight: 12 }, 'TEXT application_utilization=0.734, named_metrics.in_flight=12'],
    [{ utilization: 0.73449, inFlight: 1 }, 'TEXT application_utilization=0.734, named_metrics.in_flight=1'],
    [{ utilization: 0.0005, inFlight: 0 }, 'TEXT application_utilization=0.001, named_metrics.in_flight=0'],
    [{ utilization: 1.7, inFlight: 3 }, 'TEXT application_utilization=1, named_metrics.in_flight=3'],
    [{ utilization: -0.2, inFlight: 3 }, 'TEXT application_utilization=0, named_metrics.in_flight=3'],
    [{ utilization: 0.5, inFlight: undefined }, 'TEXT application_utilization=0.5'],
    [{ utilization: undefined, inFlight: 7 }, 'TEXT named_metrics.in_flight=7'],
    [{ utilization: Number.NaN, inFlight: 7.4 }, 'TEXT named_metrics.in_flight=7'],
    [{ utilization: undefined, inFlight: undefined }, 'TEXT '],
  ];
  for (const [report, text] of cases) assert.equal(formatLoadReport(report), text, JSON.stringify(report));
});

test('parseLoadReport reads well-formed reports', () => {
  const cases: Array<[string, LoadReport]> = [
    ['TEXT application_utilization=0.734, named_metrics.in_flight=12', { utilization: 0.734, inFlight: 12 }],
    ['TEXT named_metrics.in_flight=12,application_utilization=0.5', { utilization: 0.5, inFlight: 12 }],
    [
      '  TEXT   application_utilization = 0.25 ,\tnamed_metrics.in_flight =3  ',
      { utilization: 0.25, inFlight: 3 },
    ],
    ['TEXT application_utilization=0.1', { utilization: 0.1, inFlight: undefined }],
    ['TEXT named_metrics.in_flight=0', { utilization: undefined, inFlight: 0 }],
    ['TEXT ', { utilization: undefined, inFlight: undefined }],
    // Envoy's rule: application_utilization, else cpu_utilization (an unset protobuf field reads as 0).
    ['TEXT cpu_utilization=0.4', { utilization: 0.4, inFlight: undefined }],
    ['TEXT cpu_utilization=0.4, application_utilization=0.2', { utilization: 0.2, inFlight: undefined }],
    ['TEXT application_utilization=0, cpu_utilization=0.4', { utilization: 0.4, inFlight: undefined }],
    ['TEXT application_utilization=0', { utilization: 0, inFlight: undefined }],
    // ORCA's cpu_utilization may exceed 1 (more than one core); the report is clamped.
    ['TEXT cpu_utilization=2.5', { utilization: 1, inFlight: undefined }],
    ['TEXT application_utilization=1.2', { utilization: 1, inFlight: undefined }],
    // Unknown keys are skipped, whatever their value.
    [
      'TEXT mem_utilization=0.9, rps_fractional=1000, named_metrics.queue=abc, application_utilization=0.3',
      { utilization: 0.3, inFlight: undefined },
    ],
    [
      'TEXT named_metrics.in_flight_x=1.5, named_metrics.in_flight=2',
      { utilization: undefined, inFlight: 2 },
    ],
    // Decimal forms Number() reads.
    ['TEXT application_utilization=.5, named_metrics.in_flight=4.', { utilization: 0.5, inFlight: 4 }],
    ['TEXT application_utilization=5e-1, named_metrics.in_flight=1E2', { utilization: 0.5, inFlight: 100 }],
    [
      'TEXT application_utilization=0.12345678901234567890',
      { utilization: 0.12345678901234568, inFlight: undefined },
    ],
    ['TEXT named_metrics.in_flight=12.0', { utilization: undefined, inFlight: 12 }],
    // The last of a repeated key wins.
    ['TEXT named_metrics.in_flight=1, named_metrics.in_flight=2', { utilization: undefined, inFlight: 2 }],
  ];
  for (const [text, report] of cases) assert.deepEqual(parseLoadReport(text), report, text);
});

test('parseLoadReport refuses malformed reports', () => {
  const refused = [
    '',
    'TEXT',
    'text application_utilization=0.5',
    'Text application_utilization=0.5',
    'TEXTapplication_utilization=0.5',
    'TEXT\tapplication_utilization=0.5',
    'JSON {"application_utilization":0.5}',
    'BIN AAAA',
    'application_utilization=0.5',
    'TEXT application_utilization=-0.5',
    'TEXT cpu_utilization=-1',
    'TEXT named_metrics.in_flight=-1',
    'TEXT application_utilization=NaN',
    'TEXT application_utilization=Infinity',
    'TEXT application_utilization=1e400',
    `TEXT application_utilization=${'9'.repeat(400)}`,
    'TEXT named_metrics.in_flight=1.5',
    'TEXT named_metrics.in_flight=1e300',
    'TEXT application_utilization=0x1',
    'TEXT application_utilization=+0.5',
    'TEXT application_utilization=0.5.5',
    'TEXT application_utilization=.',
    'TEXT application_utilization=1e',
    'TEXT application_utilization=1e+',
    'TEXT application_utilization=0.5abc',
    'TEXT application_utilization=0 5',
    'TEXT application_utilization=',
    'TEXT application_utilization',
    'TEXT =0.5',
    'TEXT , application_utilization=0.5',
    'TEXT application_utilization=0.5,',
    'TEXT application_utilization=0.5,, named_metrics.in_flight=1',
    'TEXT application_utilization=0.5 named_metrics.in_flight=1',
    'TEXT application utilization=0.5',
    'TEXT mem_utilization=',
    `TEXT application_utilization=0.5, named_metrics.pad=${'x'.repeat(4096)}`,
  ];
  for (const text of refused) assert.equal(parseLoadReport(text), undefined, text.slice(0, 80));
  assert.equal(parseLoadReport(undefined as unknown as string), undefined);
  assert.equal(parseLoadReport(['TEXT named_metrics.in_flight=1'] as unknown as string), undefined);
});

test('the 4096-character limit is on the whole value', () => {
  const head = 'TEXT named_metrics.in_flight=1, named_metrics.pad=';
  const fits = head + 'x'.repeat(4096 - head.length);
  assert.equal(fits.length, 4096);
  assert.deepEqual(parseLoadReport(fits), { utilization: undefined, inFlight: 1 });
  assert.equal(parseLoadReport(`${fits}x`), undefined);
});

/** Uniform numbers in [0, 1) from a fixed seed: the fuzz cases are the same on every run. */
function random(seed: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.float();
}

test('format then parse round-trips: utilization to 3 decimals, in-flight exactly (seeded, 5000 cases)', () => {
  const next = random(0x5eed);
  for (let n = 0; n < 5000; n++) {
    const pick = next();
    const utilization =
      pick < 0.1 ? undefined : pick < 0.2 ? (next() < 0.5 ? 0 : 1) : pick < 0.3 ? next() * 3 - 1 : next();
    const inFlight = next() < 0.1 ? undefined : Math.floor(next() ** 4 * Number.MAX_SAFE_INTEGER);
    const text = formatLoadReport({ utilization, inFlight });
    const parsed = parseLoadReport(text);
    const expected =
      utilization === undefined ? undefined : Math.round(Math.min(1, Math.max(0, utilization)) * 1000) / 1000;
    assert.deepEqual(parsed, { utilization: expected, inFlight }, text);
    assert.ok(text.length < 100, text);
  }
});

test('garbage never throws and anything accepted is in range (seeded, 20000 cases)', () => {
  const next = random(42);
  const alphabet = 'TEXT ,=.-+eE0123456789\t_aplicton_uzrfwm"\\\u00e9\u0000';
  const pieces = [
    'TEXT ',
    'application_utilization',
    'cpu_utilization',
    'named_metrics.in_flight',
    '=',
    ', ',
    '0.5',
    '12',
    '-',
    'e',
    '.',
    ' ',
    'NaN',
    'Infinity',
  ];
  let accepted = 0;
  for (let n = 0; n < 20_000; n++) {
    let text = '';
    const length = Math.floor(next() * 12);
    for (let k = 0; k < length; k++) {
      text +=
        next() < 0.6
          ? pieces[Math.floor(next() * pieces.length)]
          : alphabet[Math.floor(next() * alphabet.length)];
    }
    const report = parseLoadReport(text);
    if (report === undefined) continue;
    accepted++;
    const { utilization, inFlight } = report;
    assert.ok(utilization === undefined || (utilization >= 0 && utilization <= 1), text);
    assert.ok(inFlight === undefined || (Number.isSafeInteger(inFlight) && inFlight >= 0), text);
    assert.ok(text.trimStart().startsWith('TEXT '), text);
  }
  assert.ok(accepted > 100, `only ${accepted} generated values were accepted: the fuzz is too random`);
});
