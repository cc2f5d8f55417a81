/** A propagator readykit implements, by its `OTEL_PROPAGATORS` name. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

/** An `OTEL_PROPAGATORS` entry that selects nothing, and why; safe to log as is. */
export interface IgnoredPropagator {
  /** The entry, control characters removed and cut to 40 characters. */
  value: string;
  reason: string;
}

/** What an `OTEL_PROPAGATORS` value selects. */
export interface PropagatorSelection {
  /** In the order given, each once; empty for `none`. */
  names: PropagatorName[];
  ignored: IgnoredPropagator[];
}

/** The OpenTelemetry default, used when `OTEL_PROPAGATORS` is unset or empty. */
export const DEFAULT_PROPAGATORS: readonly PropagatorName[] = Object.freeze(['tracecontext', 'baggage']);

/** Every propagator readykit implements. */
export const PROPAGATOR_NAMES: readonly PropagatorName[] = Object.freeze([
  'tracecontext',
  'baggage',
  'b3',
  'b3multi',
]);
const SUPPORTED: ReadonlySet<string> = new Set<string>(PROPAGATOR_NAMES);
// Names the OpenTelemetry spec defines that readykit does not implement.
const UNSUPPORTED: ReadonlySet<string> = new Set(['jaeger', 'xray', 'ottrace']);
const MAX_SHOWN = 40;

/**
 * Reads an `OTEL_PROPAGATORS` value: a comma-separated list of names, each trimmed, duplicates
 * dropped keeping the first. Runs once at startup, so clarity wins over speed here.
 *
 * - An empty value (or only commas and whitespace) selects {@link DEFAULT_PROPAGATORS}: the
 *   OpenTelemetry spec reads an empty variable as an unset one.
 * - `none` anywhere selects no propagator at all; the other names are then reported as
 *   ignored, because of `none`. This follows the OpenTelemetry JS SDK; the spec only says that
 *   `none` means "no automatically configured propagator".
 * - `jaeger`, `xray` and `ottrace` are valid OpenTelemetry names that readykit does not
 *   implement: ignored, `not supported by readykit`.
 * - Names are read case-insensitively, as the spec's general rule for enum values asks
 *   (`B3` is `b3`).
 * - Anything else is ignored as `unknown propagator`.
 *
 * Never throws. The reasons are fixed texts and each ignored `value` is cleaned of control
 * characters and cut to 40 characters, so the caller can log both.
 */
export function parsePropagators(value: string): PropagatorSelection {
  const names: PropagatorName[] = [];
  const ignored: IgnoredPropagator[] = [];
  const seenIgnored = new Set<string>();
  const ignore = (entry: string, reason: string): void => {
    const shown = shownValue(entry);
    if (seenIgnored.has(shown)) return;
    seenIgnored.add(shown);
    ignored.push({ value: shown, reason });
  };

  let none = false;
  let entries = 0;
  // A non-string (a caller passing `process.env.X` unchecked) reads as unset.
  const list = typeof value === 'string' ? value : '';
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    entries++;
    const name = entry.toLowerCase();
    if (name === 'none') none = true;
    else if (SUPPORTED.has(name)) {
      if (!names.includes(name as PropagatorName)) names.push(name as PropagatorName);
    } else if (UNSUPPORTED.has(name)) ignore(entry, 'not supported by readykit');
    else ignore(entry, 'unknown propagator');
  }

  if (entries === 0) return { names: [...DEFAULT_PROPAGATORS], ignored };
  if (none) {
    for (const name of names) ignore(name, 'ignored because "none" is also set');
    return { names: [], ignored };
  }
  return { names, ignored };
}

/** The entry as it may be logged: no control or format characters, at most 40 characters. */
function shownValue(entry: string): string {
  // \p{C}: control, format (bidi overrides), unassigned, private use and lone surrogates.
  const clean = Array.from(entry.replace(/\p{C}/gu, ''));
  return clean.length > MAX_SHOWN ? `${clean.slice(0, MAX_SHOWN).join('')}…` : clean.join('');
}
