import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type BalancerConfig, resolveBalancerConfig } from '../options.ts';
import { parseConfigText, readConfigBytes } from './config-file.ts';

/** What {@link ConfigWatcher} needs. */
export interface ConfigWatcherOptions {
  readonly path: string;
  /** Flag values by dotted key: they still win over the file after a reload. */
  readonly flags: ReadonlyMap<string, unknown>;
  /** Called with each new valid configuration. */
  readonly apply: (config: BalancerConfig) => void;
  readonly log: (line: string) => void;
  /** How long edits must settle before the file is read. @default 100 */
  readonly settleMs?: number;
  /** Re-read this often even without a change event (network filesystems miss them). @default 5000 */
  readonly pollMs?: number;
}

/**
 * Watches the config file and hands every valid new version to `apply`. It watches the
 * directory, not the file: editors save by writing a new file and renaming it over the old
 * one, and Kubernetes swaps a ConfigMap volume's `..data` symlink, and either way a watch on
 * the old file would go quiet. Changes are recognised by content, so the events' noise does
 * not matter. An invalid version is logged in one line and ignored; the last good one stays.
 */
export class ConfigWatcher {
  readonly #options: ConfigWatcherOptions;
  readonly #watcher: FSWatcher;
  readonly #poll: NodeJS.Timeout;
  #settle: NodeJS.Timeout | undefined;
  #digest: string | undefined;
  #reading: Promise<void> = Promise.resolve();
  // The last rejection logged, so a file left broken is reported once, not on every poll.
  #rejection: string | undefined;
  #closed = false;

  /** `initialText` is the file as the balancer started with it. */
  constructor(options: ConfigWatcherOptions, initialText: string | Buffer) {
    this.#options = options;
    this.#digest = digest(initialText);
    const name = basename(options.path);
    this.#watcher = watch(dirname(options.path), { persistent: false }, (_event, file) => {
      if (file === null || file === name || file.startsWith('..')) this.#schedule();
    });
    this.#watcher.on('error', (error) => options.log(`config watch failed: ${codeOf(error)}; polling only`));
    this.#poll = setInterval(() => this.#schedule(), options.pollMs ?? 5000);
    this.#poll.unref();
  }

  /** Reads the file now (after pending reads) and applies it if it changed. */
  check(): Promise<void> {
    this.#reading = this.#reading.then(() => this.#read());
    return this.#reading;
  }

  close(): void {
    this.#closed = true;
    this.#watcher.close();
    clearInterval(this.#poll);
    clearTimeout(this.#settle);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.check(), this.#options.settleMs ?? 100);
    this.#settle.unref();
  }

  async #read(): Promise<void> {
    if (this.#closed) return;
    const { path, flags, apply, log } = this.#options;
    let config: BalancerConfig;
    try {
      // Mid-rename the file may be missing for a moment; the next event reads it again.
      const bytes = await readConfigBytes(path);
      const next = digest(bytes);
      if (next === this.#digest) return;
      this.#digest = next;
      config = resolveBalancerConfig(parseConfigText(bytes.toString('utf8'), path), flags);
    } catch (error) {
      const reason = (error as Error).message;
      if (reason !== this.#rejection) {
        log(`config reload rejected: ${reason}; keeping the last good configuration`);
      }
      this.#rejection = reason;
      return;
    }
    this.#rejection = undefined;
    if (!this.#closed) apply(config);
  }
}

function digest(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'error';
}
