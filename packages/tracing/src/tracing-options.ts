import {
  bool,
  durationMs,
  fn,
  invalidOption,
  knownKeys,
  plainObject,
  positiveMs,
} from '@readykit/health/validate';
import {
  DEFAULT_PROPAGATORS,
  PROPAGATOR_NAMES,
  type PropagatorName,
  parsePropagators,
} from './propagator-names.ts';
import { RandomIds } from './trace-ids.ts';

export interface DeadlineOptions {
  /**
   * readykit's own budget header: read on requests, written on every outgoing call with the
   * remaining budget in whole milliseconds. @default 'x-readykit-timeout-ms'
   */
  header?: string;
  /** Budget of a request that brings none, in ms. @default 30000 */
  default?: number;
  /** Incoming budgets are clamped to this, in ms. @default 60000 */
  max?: number;
  /** Subtracted from the remaining budget sent downstream, for the hop itself; at least 1 ms, in ms. @default 5 */
  margin?: number;
  /** Read gRPC's `grpc-timeout`. @default true */
  grpcTimeout?: boolean;
  /** Read Envoy's `x-envoy-expected-rq-timeout-ms`. @default true */
  envoy?: boolean;
}

export interface TracingOptions {
  /**
   * Trace formats read and written, in order of precedence on the way in.
   * @default from `OTEL_PROPAGATORS`, else ['tracecontext', 'baggage']
   */
  propagators?: readonly PropagatorName[];
  /** The request id header, read, echoed on the response and sent downstream. @default 'x-request-id' */
  requestIdHeader?: string;
  /** Time budgets and how they shrink hop by hop. */
  deadline?: DeadlineOptions;
  /**
   * Add the trace, request id and budget headers to outgoing `fetch`, undici and `node:http(s)`
   * calls made while handling a request (through `node:diagnostics_channel`). @default true
   */
  outgoing?: boolean;
  /** Environment read for `OTEL_PROPAGATORS`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where one-line warnings go (an ignored `OTEL_PROPAGATORS` value). @default process.emitWarning */
  warn?: (message: string) => void;
}

/** Resolved options, shared by every request context an instance creates. @internal */
export interface TracingSettings {
  readonly propagators: readonly PropagatorName[];
  readonly tracecontext: boolean;
  readonly baggage: boolean;
  readonly b3: boolean;
  readonly b3multi: boolean;
  readonly requestIdHeader: string;
  readonly deadlineHeader: string;
  readonly defaultBudget: number;
  readonly maxBudget: number;
  readonly margin: number;
  readonly grpcTimeout: boolean;
  readonly envoy: boolean;
  readonly outgoing: boolean;
  readonly ids: RandomIds;
}

/** @internal every option key, for the README check. */
export const OPTION_KEYS = ['propagators', 'requestIdHeader', 'deadline', 'outgoing', 'env', 'warn'];
/** @internal */
export const DEADLINE_KEYS = ['header', 'default', 'max', 'margin', 'grpcTimeout', 'envoy'];
// An HTTP field name (RFC 9110 token), lowercase because Node lowercases incoming names.
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

export function resolveTracingOptions(input: unknown = {}): TracingSettings {
  const options = plainObject('options', input);
  knownKeys('options', options, OPTION_KEYS);
  const warn =
    options.warn === undefined
      ? (message: string) => process.emitWarning(message, 'ReadykitTracingWarning')
      : fn<(message: string) => void>('warn', options.warn);
  const env = options.env === undefined ? process.env : plainObject('env', options.env);
  const propagators = resolvePropagators(options.propagators, env, warn);
  const deadline = plainObject('deadline', options.deadline ?? {});
  knownKeys('deadline', deadline, DEADLINE_KEYS);
  const maxBudget = positiveMs('deadline.max', deadline.max, 60_000);
  const defaultBudget = positiveMs('deadline.default', deadline.default, Math.min(30_000, maxBudget));
  if (defaultBudget > maxBudget) {
    throw invalidOption('deadline.default', `at most deadline.max (${maxBudget})`, defaultBudget);
  }
  const margin = durationMs('deadline.margin', deadline.margin, 5);
  if (margin < 1) throw invalidOption('deadline.margin', 'at least 1 ms', margin);
  return {
    propagators,
    tracecontext: propagators.includes('tracecontext'),
    baggage: propagators.includes('baggage'),
    b3: propagators.includes('b3'),
    b3multi: propagators.includes('b3multi'),
    requestIdHeader: headerName('requestIdHeader', options.requestIdHeader, 'x-request-id'),
    deadlineHeader: headerName('deadline.header', deadline.header, 'x-readykit-timeout-ms'),
    defaultBudget,
    maxBudget,
    margin,
    grpcTimeout: bool('deadline.grpcTimeout', deadline.grpcTimeout, true),
    envoy: bool('deadline.envoy', deadline.envoy, true),
    outgoing: bool('outgoing', options.outgoing, true),
    ids: new RandomIds(),
  };
}

function resolvePropagators(
  value: unknown,
  env: Readonly<Record<string, unknown>>,
  warn: (message: string) => void,
): readonly PropagatorName[] {
  if (value !== undefined) {
    if (!Array.isArray(value)) throw invalidOption('propagators', 'an array of propagator names', value);
    for (const name of value) {
      if (!PROPAGATOR_NAMES.includes(name)) {
        throw invalidOption('propagators', `names among ${PROPAGATOR_NAMES.join(', ')}`, name);
      }
    }
    return Object.freeze([...new Set(value as PropagatorName[])]);
  }
  const fromEnv = env.OTEL_PROPAGATORS;
  // parsePropagators reads an empty value as unset, as the OpenTelemetry spec asks.
  if (typeof fromEnv !== 'string') return DEFAULT_PROPAGATORS;
  const { names, ignored } = parsePropagators(fromEnv);
  for (const { value: name, reason } of ignored) warn(`OTEL_PROPAGATORS: ignoring ${name}: ${reason}`);
  return Object.freeze(names);
}

function headerName(path: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !HEADER_NAME.test(value.toLowerCase())) {
    throw invalidOption(path, 'an HTTP header name', value);
  }
  return value.toLowerCase();
}
