import { readdirSync, readFileSync } from 'node:fs';

/** What a process holds at one instant, as the kernel counts it. */
export interface Footprint {
  /** Resident set size in KiB (`VmRSS` of `/proc/<pid>/status`). */
  readonly rssKiB: number;
  /** Open file descriptors: entries of `/proc/<pid>/fd` (sockets, pipes, files, epoll…). */
  readonly fds: number;
}

/**
 * Reads a live process's footprint from `/proc` (Linux). Read from outside, so the process
 * under test runs unmodified: no instrumentation, no `--expose-gc`.
 */
export function footprint(pid: number): Footprint {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (rss === null) throw new Error(`/proc/${pid}/status has no VmRSS line (a zombie?)`);
  return { rssKiB: Number(rss[1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** The soft and hard limits on open files of a process (`Max open files` of `/proc/<pid>/limits`). */
export function openFileLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (m === null) throw new Error(`/proc/${pid}/limits has no "Max open files" line`);
  const value = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}
