import type { BackendRow } from './front-balancer.ts';
import type { LoadFigures } from './load.ts';

/** What the live block shows, read on every redraw. */
export interface ViewSource {
  readonly title: string;
  readonly dashboard: string;
  progress(): string;
  rows(): readonly BackendRow[];
  /** The load's figures over the last seconds, and in total. */
  recent(): LoadFigures;
  total(): LoadFigures;
}

/**
 * The demo's terminal: on a TTY, narration lines scroll above a live block (per backend: state,
 * share, p50/p99, errors; the load; the scenario's progress) redrawn four times a second; when
 * stdout is not a TTY (CI logs, pipes), narration lines alone, plus a status line every 5 s.
 */
export class TerminalView {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #source: ViewSource;
  readonly #startedAt = Date.now();
  readonly #pending: string[] = [];
  #blockLines = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: NodeJS.WriteStream, source: ViewSource) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#source = source;
  }

  start(): void {
    if (this.#tty) {
      this.#out.write('\x1b[?25l');
      this.#timer = setInterval(() => this.#redraw(), 250);
    } else {
      this.#timer = setInterval(() => this.narrate(this.#statusLine()), 5000);
    }
    this.#timer.unref();
  }

  /** Prints one line of the story, stamped with the time since the demo started. */
  narrate(line: string): void {
    const stamped = `[${((Date.now() - this.#startedAt) / 1000).toFixed(1).padStart(5)} s] ${line}`;
    if (this.#tty) {
      this.#pending.push(stamped);
      this.#redraw();
    } else {
      this.#out.write(`${stamped}\n`);
    }
  }

  /** Stops redrawing; the last block stays on screen above what follows. */
  stop(): void {
    clearInterval(this.#timer);
    if (this.#tty) {
      this.#redraw();
      this.#out.write('\x1b[?25h');
    }
  }

  #redraw(): void {
    // Lines never wrap, or moving up by the block's line count would miss.
    const width = Math.max(40, (this.#out.columns || 100) - 1);
    const block = this.#block().map((line) => (line.length > width ? line.slice(0, width) : line));
    block[1] = `\x1b[1m${block[1]}\x1b[0m`;
    // Up to the block's first line, clear to the end, then new narration and the block again.
    const up = this.#blockLines > 0 ? `\x1b[${this.#blockLines}F\x1b[J` : '';
    const narration = this.#pending.splice(0).map((line) => `${line.slice(0, width)}\n`);
    this.#out.write(`${up}${narration.join('')}${block.join('\n')}\n`);
    this.#blockLines = block.length;
  }

  #block(): string[] {
    const s = this.#source;
    const lines = [
      '',
      `${s.title}   dashboard: ${s.dashboard}`,
      `scenario: ${s.progress()}`,
      `  ${'backend'.padEnd(24)}${'state'.padEnd(20)}${'share'.padStart(7)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'errors'.padStart(8)}`,
    ];
    for (const row of s.rows()) {
      lines.push(
        `  ${row.url.replace('http://', '').padEnd(24)}${row.state.padEnd(20)}${percent(row.sharePercent).padStart(7)}${ms(row.p50Ms).padStart(9)}${ms(row.p99Ms).padStart(9)}${String(row.errors).padStart(8)}`,
      );
    }
    lines.push(this.#statusLine(), 'Ctrl-C stops everything');
    return lines;
  }

  #statusLine(): string {
    const recent = this.#source.recent();
    const total = this.#source.total();
    return `load: ${total.sent} sent, ${total.failed} failed; last 2 s p50 ${ms(recent.p50Ms)}, p99 ${ms(recent.p99Ms)}`;
  }
}

/** `12.3 ms`, or `-` without a figure. */
export function ms(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(1)} ms`;
}

function percent(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(0)} %`;
}
