import type { LoadSecond } from './load.ts';
import type { Segment } from './timeline.ts';

const WIDTH = 960;
const HEIGHT = 520;
const LEFT = 64;
const RIGHT = 24;
const LATENCY = { top: 64, height: 220 };
const THROUGHPUT = { top: 340, height: 130 };

/**
 * The run as an SVG chart: p50 and p99 latency per second (top), answered and failed requests
 * per second (bottom), and a marker with its name where each segment of the scenario starts.
 * Self-contained (no fonts, scripts or links), so it renders on GitHub and in any browser.
 */
export function svgReport(
  title: string,
  seconds: readonly LoadSecond[],
  segments: readonly Segment[],
): string {
  const span = Math.max(1, seconds.length);
  const x = (second: number): number => LEFT + ((WIDTH - LEFT - RIGHT) * second) / span;
  const p99s = seconds.map((s) => s.p99Ms ?? 0);
  const latencyMax = niceCeiling(Math.max(5, ...p99s));
  const rates = seconds.map((s) => s.sent);
  const rateMax = niceCeiling(Math.max(10, ...rates));
  const yLatency = (v: number): number =>
    LATENCY.top + LATENCY.height * (1 - Math.min(v, latencyMax) / latencyMax);
  const yRate = (v: number): number =>
    THROUGHPUT.top + THROUGHPUT.height * (1 - Math.min(v, rateMax) / rateMax);
  const points = (values: readonly (number | null)[], y: (v: number) => number): string =>
    values
      .map((v, i) => (v === null ? null : `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p) => p !== null)
      .join(' ');

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  // Phase markers behind the data: a band for each scenario action, a line and a name at each start.
  segments.forEach((segment, i) => {
    const start = x(segment.startMs / 1000);
    const end = x((segment.endMs ?? span * 1000) / 1000);
    if (i % 2 === 1) {
      parts.push(
        `<rect class="phase-band" x="${start.toFixed(1)}" y="${LATENCY.top}" width="${Math.max(0, end - start).toFixed(1)}" height="${THROUGHPUT.top + THROUGHPUT.height - LATENCY.top}" fill="#f1f5f9"/>`,
      );
    }
    parts.push(
      `<line class="phase" data-phase="${escapeXml(segment.name)}" x1="${start.toFixed(1)}" y1="${LATENCY.top - 18}" x2="${start.toFixed(1)}" y2="${THROUGHPUT.top + THROUGHPUT.height}" stroke="#94a3b8" stroke-dasharray="4 3"/>`,
      `<text class="phase-label" x="${(start + 3).toFixed(1)}" y="${LATENCY.top - 8 - (i % 2) * 12}" fill="#334155">${escapeXml(segment.name)}</text>`,
    );
  });
  parts.push(
    ...axis('latency (ms)', LATENCY, latencyMax, yLatency),
    ...axis('requests / s', THROUGHPUT, rateMax, yRate),
    `<polyline class="latency p99" data-series="latency-p99" fill="none" stroke="#ea580c" stroke-width="1.5" points="${points(
      seconds.map((s) => s.p99Ms),
      yLatency,
    )}"/>`,
    `<polyline class="latency p50" data-series="latency-p50" fill="none" stroke="#0891b2" stroke-width="1.5" points="${points(
      seconds.map((s) => s.p50Ms),
      yLatency,
    )}"/>`,
    `<polyline class="throughput" data-series="throughput" fill="none" stroke="#4f46e5" stroke-width="1.5" points="${points(
      seconds.map((s) => s.sent - s.failed),
      yRate,
    )}"/>`,
  );
  for (const s of seconds) {
    if (s.failed === 0) continue;
    const top = yRate(s.failed);
    parts.push(
      `<rect class="failed" data-second="${s.second}" x="${x(s.second).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, x(1) - x(0)).toFixed(1)}" height="${(THROUGHPUT.top + THROUGHPUT.height - top).toFixed(1)}" fill="#dc2626"/>`,
    );
  }
  const step = span > 120 ? 30 : span > 40 ? 10 : 5;
  for (let t = 0; t <= span; t += step) {
    parts.push(
      `<text class="tick" x="${x(t).toFixed(1)}" y="${THROUGHPUT.top + THROUGHPUT.height + 14}" text-anchor="middle" fill="#64748b">${t}</text>`,
    );
  }
  const legendY = HEIGHT - 16;
  parts.push(
    `<text x="${LEFT}" y="${legendY}" fill="#ea580c">p99</text>`,
    `<text x="${LEFT + 40}" y="${legendY}" fill="#0891b2">p50</text>`,
    `<text x="${LEFT + 80}" y="${legendY}" fill="#4f46e5">answered 200 / s</text>`,
    `<text x="${LEFT + 200}" y="${legendY}" fill="#dc2626">failed / s</text>`,
    `<text x="${WIDTH - RIGHT}" y="${legendY}" text-anchor="end" fill="#64748b">seconds since the load started (0-${seconds.length})</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

function axis(
  label: string,
  panel: { top: number; height: number },
  max: number,
  y: (v: number) => number,
): string[] {
  const lines = [
    `<text x="14" y="${panel.top + panel.height / 2}" fill="#64748b" transform="rotate(-90 14 ${panel.top + panel.height / 2})" text-anchor="middle">${escapeXml(label)}</text>`,
    `<line x1="${LEFT}" y1="${panel.top + panel.height}" x2="${WIDTH - RIGHT}" y2="${panel.top + panel.height}" stroke="#cbd5e1"/>`,
  ];
  for (const v of [0, max / 2, max]) {
    lines.push(
      `<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${WIDTH - RIGHT}" y2="${y(v).toFixed(1)}" stroke="#e2e8f0"/>`,
      `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#64748b">${formatTick(v)}</text>`,
    );
  }
  return lines;
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
