import type { OpenLoopLoad } from './load.ts';
import { ms } from './terminal-view.ts';
import type { Timeline } from './timeline.ts';

/**
 * The closing lines: requests sent and failed (the target is 0), figures per segment, and each
 * phase's p99 before, during and after it.
 */
export function summaryLines(load: OpenLoopLoad, timeline: Timeline): string[] {
  const total = load.figures();
  const lines = [
    `summary: ${total.sent} requests sent, ${total.failed} failed (target 0), p50 ${ms(total.p50Ms)}, p99 ${ms(total.p99Ms)}`,
  ];
  if (timeline.segments.length > 0) {
    lines.push(
      `  ${'segment'.padEnd(18)}${'seconds'.padStart(8)}${'requests'.padStart(10)}${'failed'.padStart(8)}${'p50'.padStart(10)}${'p99'.padStart(10)}`,
    );
    for (const segment of timeline.segments) {
      const f = load.figures(segment.startMs, segment.endMs);
      const seconds = ((segment.endMs ?? load.now()) - segment.startMs) / 1000;
      lines.push(
        `  ${segment.name.padEnd(18)}${seconds.toFixed(1).padStart(8)}${String(f.sent).padStart(10)}${String(f.failed).padStart(8)}${ms(f.p50Ms).padStart(10)}${ms(f.p99Ms).padStart(10)}`,
      );
    }
  }
  for (const phase of timeline.phases) {
    const p99 = (name: string): string => {
      const s = timeline.segment(name);
      return s === undefined ? '-' : ms(load.figures(s.startMs, s.endMs).p99Ms);
    };
    lines.push(
      `${phase.name}: p99 before ${p99(phase.before)}, during ${p99(phase.during)}, after ${p99(phase.after)}`,
    );
  }
  for (const failure of load.failures.slice(0, 5)) lines.push(`  failed: ${failure}`);
  return lines;
}
