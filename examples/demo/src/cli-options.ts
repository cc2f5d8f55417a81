import { parseArgs } from 'node:util';

/** The demo's settings, from its command line. */
export interface DemoOptions {
  /** false: start the stack and the load, and run until Ctrl-C. */
  readonly scenario: boolean;
  readonly balancer: 'readykit' | 'haproxy';
  /** Plain Express services without readykit, to show what fails without it. */
  readonly control: boolean;
  /** Requests per second of the steady load. */
  readonly rate: number;
  /** Length of the steady stretches between and around the scenario's actions. */
  readonly phaseMs: number;
  /** Where to write the SVG chart, if anywhere. */
  readonly report: string | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: npm start -- [options]
  --no-scenario          start the stack and the load only; Ctrl-C stops
  --balancer NAME        readykit (default) or haproxy (/usr/sbin/haproxy; rolling restart only)
  --control              plain Express services without readykit (rolling restart only): the failures of today
  --rate N               requests per second of the steady load (default 200, 1-2000)
  --phase-seconds N      length of each steady stretch of the scenario (default 5, 1-120)
  --report FILE.svg      write latency and throughput over time, phases marked, as an SVG chart
  -h, --help             this text`;

/** A command line the demo refuses; its message is one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `args` (without node and the script); throws a UsageError naming what is wrong. */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        scenario: { type: 'boolean', default: true },
        balancer: { type: 'string', default: 'readykit' },
        control: { type: 'boolean', default: false },
        rate: { type: 'string', default: '200' },
        'phase-seconds': { type: 'string', default: '5' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify .*$/, ''));
  }
  const balancer = values.balancer as string;
  if (balancer !== 'readykit' && balancer !== 'haproxy') {
    throw new UsageError(
      `--balancer must be readykit or haproxy, got ${JSON.stringify(balancer.slice(0, 20))}`,
    );
  }
  const report = values.report as string | undefined;
  if (report !== undefined && !report.endsWith('.svg')) {
    throw new UsageError(`--report must name an .svg file, got ${JSON.stringify(report.slice(0, 40))}`);
  }
  return {
    scenario: values.scenario as boolean,
    balancer,
    control: values.control as boolean,
    rate: wholeNumber('--rate', values.rate as string, 1, 2000),
    phaseMs: wholeNumber('--phase-seconds', values['phase-seconds'] as string, 1, 120) * 1000,
    report,
    help: values.help as boolean,
  };
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`,
    );
  }
  return Number(raw);
}
