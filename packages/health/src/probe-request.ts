import type { ProbeKind } from './probe-report.ts';
import { isName } from './validate.ts';

export interface ProbePaths {
  readonly liveness: readonly string[];
  readonly readiness: readonly string[];
}

/** What a request to a probe path asks for. */
export interface ProbeRequest {
  readonly kind: ProbeKind;
  /** `/readyz/<name>`: only that check or gate. */
  readonly only: string | undefined;
  readonly verbose: boolean;
  readonly exclude: readonly string[];
  readonly format: 'text' | 'health+json' | 'json';
  /** HEAD: headers only. */
  readonly head: boolean;
}

export type ProbeMatch =
  | { readonly match: false }
  | { readonly match: true; readonly request: ProbeRequest }
  | { readonly match: true; readonly refuse: 404 | 405 };

const NO_MATCH: ProbeMatch = Object.freeze({ match: false });
const MAX_EXCLUDES = 64;

/**
 * The cheap first question for every request of the service: could this URL be a probe?
 * A few `startsWith` calls, no allocation; `matchProbe` does the real parsing on a hit.
 */
export function isProbeUrl(url: string, paths: ProbePaths): boolean {
  return prefixLength(url, paths.liveness) >= 0 || prefixLength(url, paths.readiness) >= 0;
}

/** Length of the path in `paths` that `url` starts with at a boundary ('', '?' or '/' next), or -1. */
function prefixLength(url: string, paths: readonly string[]): number {
  for (const path of paths) {
    if (!url.startsWith(path)) continue;
    const next = url.charCodeAt(path.length);
    if (Number.isNaN(next) || next === 63 /* ? */ || next === 47 /* / */) return path.length;
  }
  return -1;
}

/**
 * Matches a request line against the probe paths. Cheap on the miss path (every request of
 * the service goes through here): one indexOf and a few string comparisons, no allocation.
 * A query string never breaks the match; a trailing slash is tolerated.
 */
export function matchProbe(
  url: string,
  method: string | undefined,
  accept: string | undefined,
  paths: ProbePaths,
): ProbeMatch {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  let kind: ProbeKind | undefined;
  let only: string | undefined;
  if (paths.liveness.includes(path)) kind = 'liveness';
  else if (paths.readiness.includes(path)) kind = 'readiness';
  else {
    const slash = path.lastIndexOf('/');
    if (slash <= 0) return NO_MATCH;
    const parent = path.slice(0, slash);
    if (paths.liveness.includes(parent)) kind = 'liveness';
    else if (paths.readiness.includes(parent)) kind = 'readiness';
    else return NO_MATCH;
    only = safeDecode(path.slice(slash + 1));
    if (only === undefined || !isName(only)) return { match: true, refuse: 404 };
  }
  if (method !== 'GET' && method !== 'HEAD') return { match: true, refuse: 405 };
  if (q === -1) {
    return {
      match: true,
      request: {
        kind,
        only,
        verbose: false,
        exclude: [],
        format: negotiate(accept),
        head: method === 'HEAD',
      },
    };
  }
  const params = new URLSearchParams(url.slice(q + 1));
  const verboseValue = params.get('verbose');
  const exclude: string[] = [];
  for (const value of params.getAll('exclude')) {
    for (const part of value.split(',')) {
      const name = part.trim();
      if (name !== '' && exclude.length < MAX_EXCLUDES) exclude.push(name);
    }
  }
  return {
    match: true,
    request: {
      kind,
      only,
      verbose: verboseValue !== null && verboseValue !== 'false' && verboseValue !== '0',
      exclude,
      format: negotiate(accept),
      head: method === 'HEAD',
    },
  };
}

function negotiate(accept: string | undefined): ProbeRequest['format'] {
  if (accept === undefined) return 'text';
  if (accept.includes('application/health+json')) return 'health+json';
  if (accept.includes('application/json')) return 'json';
  return 'text';
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
